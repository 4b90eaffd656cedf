"""JSON patch (RFC 6902) through the ``jsonpatch`` library, with Kubernetes' split of errors:
a body that is not a list of operations is a 400; an operation that cannot be applied (a
failed ``test``, a missing path, a bad ``op``) is a 422, as kube-apiserver answers."""

from __future__ import annotations

import copy

import jsonpatch
import jsonpointer

from berth.platform.errors import BadRequest, RequestEntityTooLarge
from berth.platform.resources.patch.errors import PatchRejected

MAX_OPERATIONS = 10000


def apply_json_patch(original: dict, operations: object) -> dict:
    if not isinstance(operations, list):
        raise BadRequest(
            f"json: cannot unmarshal {_json_type(operations)} into Go value of type jsonpatch.Patch"
        )
    if len(operations) > MAX_OPERATIONS:
        raise RequestEntityTooLarge(
            f"The allowed maximum operations in a JSON patch is "
            f"{MAX_OPERATIONS}, got {len(operations)}"
        )
    if not all(isinstance(op, dict) for op in operations):
        raise BadRequest("json: cannot unmarshal an operation that is not an object")
    result: object = copy.deepcopy(original)
    for op in operations:
        # One at a time, to say which operation failed; the copy makes the whole atomic.
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise PatchRejected(f"testing value {op.get('path')} failed: test failed") from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise PatchRejected(f"{op.get('op') or 'an'} operation does not apply: {exc}") from None
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            # The library trips over malformed operations (a non-string path, a bad index).
            raise PatchRejected(f"invalid JSON patch operation: {exc}") from None
    if not isinstance(result, dict):
        raise BadRequest("the patched document is not a JSON object")
    return result


def _json_type(value: object) -> str:
    return {dict: "object", str: "string", bool: "bool", type(None): "null"}.get(
        type(value), "number"
    )
