/**
 * @module The bearer token the page sends (gateway started with ARBOR_TOKEN): asked for in the
 * page's token form when the gateway refuses a call, kept for this tab only (sessionStorage,
 * never a cookie, so no other site's request carries it).
 */

const KEY = 'arbor-token';

export class TokenStore {
  private value: string | undefined;
  private waiting: ((token: string) => void)[] = [];

  constructor(
    private readonly form: HTMLFormElement,
    private readonly input: HTMLInputElement,
    private readonly note: HTMLElement,
  ) {
    this.value = sessionStorage.getItem(KEY) ?? undefined;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === '') return;
      this.value = token;
      sessionStorage.setItem(KEY, token);
      input.value = '';
      form.hidden = true;
      for (const resolve of this.waiting.splice(0)) resolve(token);
    });
  }

  /** The token to send, if one was given. */
  current(): string | undefined {
    return this.value;
  }

  /** Shows the form (the last token was missing or refused) and resolves with the next one typed. */
  ask(): Promise<string> {
    this.note.textContent =
      this.value === undefined ? 'This gateway requires a token (its ARBOR_TOKEN).' : 'The gateway refused that token: type it again.';
    this.value = undefined;
    sessionStorage.removeItem(KEY);
    this.form.hidden = false;
    this.input.focus();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
