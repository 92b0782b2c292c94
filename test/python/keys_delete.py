"""A Python client of arbor generated from proto/ alone: Keys and Delete.

Run by test/integration/python-client.test.ts with the generated modules on sys.path and the
gateway's address as its argument; prints one JSON object per step for the test to check.
"""
import json
import sys

import grpc

from arbor.v1 import arbor_pb2, arbor_pb2_grpc


def main(address: str) -> None:
    with grpc.insecure_channel(address) as channel:
        api = arbor_pb2_grpc.ArborServiceStub(channel)
        api.Create(arbor_pb2.CreateRequest(id=1), timeout=30)
        for name, value in [("b", 2), ("a", -1), ("c", 9223372036854775807)]:
            api.Exec(arbor_pb2.ExecRequest(id=1, name=name, value=value), timeout=10)
        pages, after = [], ""
        while True:
            page = api.Keys(arbor_pb2.KeysRequest(id=1, limit=2, start_after=after), timeout=10)
            pages.append([[e.name, str(e.value)] for e in page.entries])
            if not page.more:
                break
            after = page.entries[-1].name
        print(json.dumps({"pages": pages}))
        found = api.Delete(arbor_pb2.DeleteRequest(id=1, name="a"), timeout=10)
        again = api.Delete(arbor_pb2.DeleteRequest(id=1, name="a"), timeout=10)
        print(json.dumps({"deleted": [found.found, again.found]}))
        left = api.Keys(arbor_pb2.KeysRequest(id=1), timeout=10)
        print(json.dumps({"left": [e.name for e in left.entries]}))
        try:
            api.Keys(arbor_pb2.KeysRequest(id=99), timeout=10)
        except grpc.RpcError as error:
            print(json.dumps({"missing": error.code().name}))


if __name__ == "__main__":
    main(sys.argv[1])
