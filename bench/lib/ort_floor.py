#!/usr/bin/env python3
"""A bare onnxruntime floor in Python, for bench/run.ts: the same session options as
src/engine/inference.ts, so the Node floor can be compared with Python's onnxruntime at the
same version (the binding) and at Piper's version (the build).

Started as `python ort_floor.py MODEL.onnx INTRA_OP_THREADS`; prints {"ready", "onnxruntime"},
then answers each request line {"pieces": [[ids...], ...], "scales": [n, l, w]} with
{"ms": time of the session.run calls alone, "samples": output length}.
"""

import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, intra = sys.argv[1], int(sys.argv[2])
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    print(json.dumps({"ready": True, "onnxruntime": ort.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        scales = np.array(request["scales"], dtype=np.float32)
        elapsed = 0.0
        samples = 0
        for ids in request["pieces"]:
            feeds = {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": scales,
            }
            started = time.perf_counter()
            audio = session.run(None, feeds)[0]
            elapsed += time.perf_counter() - started
            samples += audio.size
        print(json.dumps({"ms": elapsed * 1000, "samples": samples}), flush=True)


if __name__ == "__main__":
    main()
