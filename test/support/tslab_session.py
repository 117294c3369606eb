"""Run requests through the real tslab kernel, as a reader's JupyterLab would send them.

Reads a JSON list of requests on stdin — {"op": "execute" | "complete" | "inspect" |
"is_complete", "code": ..., "cursor": ...} — and writes one JSON list to the file named by
the second argument: for each, the kernel's reply content and, for an execution, its
iopub outputs (stream, error, execute_result, display_data). Not to stdout: the kernel
inherits it, and Node makes it non-blocking, which can cut Python's write short. The
kernel starts in the folder given as the first argument (the notebooks folder: tslab
resolves imports and @types from there).
tslab aborts every execution that arrives within 200 ms of a failed one (its
`execQueue.reset(200)`), so a request after a failure waits 300 ms.
"""

import json
import subprocess
import sys
import time

from jupyter_client.manager import start_new_kernel


def main():
    steps = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name="tslab", cwd=sys.argv[1], startup_timeout=120, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    results = []
    try:
        failed = False
        for step in steps:
            if failed:
                time.sleep(0.3)
            op, code = step["op"], step["code"]
            cursor = step.get("cursor", len(code))
            if op == "execute":
                msg_id = kc.execute(code)
            elif op == "complete":
                msg_id = kc.complete(code, cursor)
            elif op == "inspect":
                msg_id = kc.inspect(code, cursor)
            elif op == "is_complete":
                msg_id = kc.is_complete(code)
            else:
                raise ValueError(f"unknown op {op!r}")
            reply = None
            while reply is None:
                msg = kc.get_shell_msg(timeout=120)
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
            outputs = []
            while True:
                msg = kc.get_iopub_msg(timeout=120)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
                if kind in ("stream", "error", "execute_result", "display_data"):
                    outputs.append({"type": kind, **msg["content"]})
            failed = reply.get("status") == "error"
            results.append({"reply": reply, "outputs": outputs})
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
