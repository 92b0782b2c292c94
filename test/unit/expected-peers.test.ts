/**
 * ExpectedPeers: a routing id belongs to a node only while the control names that node with
 * that process; the answer per routing id is kept between frames and must follow every change.
 */
import { describe, expect, it } from 'vitest';
import { ExpectedPeers } from '../../link/peer-identity.js';

describe('ExpectedPeers.expectedNode', () => {
  it('names the node of an expected process, and nobody for others or malformed ids', () => {
    const peers = new ExpectedPeers();
    peers.expect([{ id: 3, pid: 100 }, null]);
    expect(peers.expectedNode('3:100:0')).toBe(3);
    expect(peers.expectedNode('3:100:7')).toBe(3);
    expect(peers.expectedNode('3:101:0')).toBeUndefined();
    expect(peers.expectedNode('4:100:0')).toBeUndefined();
    expect(peers.expectedNode('x')).toBeUndefined();
  });

  it('follows a new process of the node, and a node no longer expected, asked again with the same ids', () => {
    const peers = new ExpectedPeers();
    peers.expect([{ id: 3, pid: 100 }, { id: 9, pid: 200 }]);
    expect(peers.expectedNode('3:100:0')).toBe(3);
    expect(peers.expectedNode('3:101:0')).toBeUndefined();
    expect(peers.expectedNode('9:200:0')).toBe(9);
    peers.expect([{ id: 3, pid: 101 }, null]);
    expect(peers.expectedNode('3:100:0')).toBeUndefined();
    expect(peers.expectedNode('3:101:0')).toBe(3);
    expect(peers.expectedNode('9:200:0')).toBeUndefined();
  });

  it('keeps answering right for more routing ids than it keeps answers for', () => {
    const peers = new ExpectedPeers();
    peers.expect([{ id: 1, pid: 10 }]);
    for (let i = 0; i < 1000; i++) expect(peers.expectedNode(`2:${i}:0`)).toBeUndefined();
    expect(peers.expectedNode('1:10:0')).toBe(1);
  });
});
