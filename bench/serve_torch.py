"""The PyTorch side of bench/serve.sh: the same MNIST MLP and LeNet-5, with
the same weights (read from the Shen artifacts' weights.safetensors, whose
names are nn.Sequential's), behind FastAPI + uvicorn as a PyTorch user
would deploy them, answering the Open Inference Protocol's JSON infer
request. One process, one port, torch threads as given.

usage: serve_torch.py REPO PORT THREADS
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        lo, hi = t["data_offsets"]
        a = np.frombuffer(b[8 + n + lo:8 + n + hi], dtype=np.float32).reshape(t["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


repo, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
models = {}
for name, build, shape in (("mlp", mlp, (784,)), ("lenet", lenet, (1, 28, 28))):
    m = build()
    m.load_state_dict(read_safetensors(f"{repo}/{name}/1/weights.safetensors"))
    m.eval()
    models[name] = (m, shape)

app = FastAPI()


@app.get("/v2/health/ready")
def ready():
    return {"ready": True}


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    if name not in models:
        raise HTTPException(404, f"unknown model {name}")
    m, shape = models[name]
    body = await request.json()
    t = body["inputs"][0]
    x = torch.tensor(t["data"], dtype=torch.float32).reshape(-1, *shape)
    with torch.inference_mode():
        probs = torch.softmax(m(x), dim=1)
    return JSONResponse({"model_name": name, "model_version": "1", "outputs": [
        {"name": "probabilities", "datatype": "FP32", "shape": list(probs.shape), "data": probs.flatten().tolist()}]})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", workers=1)
