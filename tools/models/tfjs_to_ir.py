#!/usr/bin/env python3
"""Converts a TensorFlow.js graph model (model.json + weight shards) to OpenVINO IR.

The TF.js JSON topology is a GraphDef in protobuf-JSON form with the weights stored apart;
this rebuilds a frozen GraphDef (weights as Const nodes, de-quantised to float32), lets
OpenVINO's TensorFlow front end read it, and saves IR (.xml + .bin). It needs only the
`protobuf` package and the TensorFlow protos that ship with `tensorboard` — not TensorFlow.

usage: tfjs_to_ir.py MODEL.json OUT.xml [--input NAME:N,H,W,C]
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
from google.protobuf import json_format
from tensorboard.compat.proto import graph_pb2, types_pb2

# Fused ops written by the TF.js converter (grappler remapper output), and the plain op each
# one fuses onto. They are split back into the plain op + BiasAdd + activation, which every
# TensorFlow reader understands.
_FUSED = {
    "_FusedConv2D": "Conv2D",
    "FusedConv2D": "Conv2D",
    "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
    "_FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
}
_ACTIVATIONS = {"Relu", "Relu6", "Elu", "Sigmoid", "Tanh"}
_DTYPES = {
    "float32": (np.float32, types_pb2.DT_FLOAT),
    "int32": (np.int32, types_pb2.DT_INT32),
    "bool": (np.bool_, types_pb2.DT_BOOL),
}


def read_weights(model_dir, manifest):
    """Yields (name, numpy array) for every weight in the manifest, de-quantised."""
    for group in manifest:
        blob = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = w["shape"]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                qtype = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}[q["dtype"]]
                size = count * np.dtype(qtype).itemsize
                raw = np.frombuffer(blob, qtype, count, offset)
                if q["dtype"] == "float16":
                    arr = raw.astype(np.float32)
                else:
                    arr = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
            else:
                dt = _DTYPES[w["dtype"]][0]
                size = count * np.dtype(dt).itemsize
                arr = np.frombuffer(blob, dt, count, offset)
            offset += size
            yield w["name"], w["dtype"], arr.reshape(shape)
        if offset != len(blob):
            raise SystemExit(f"weight shards hold {len(blob)} bytes, manifest describes {offset}")


def unfuse(graph):
    """Rewrites fused conv nodes as conv -> BiasAdd [-> activation], keeping the node name on
    the last op so that consumers stay connected."""
    nodes = []
    for node in graph.node:
        base = _FUSED.get(node.op)
        if base is None:
            nodes.append(node)
            continue
        fused = [s.decode() for s in node.attr["fused_ops"].list.s]
        if not fused or fused[0] != "BiasAdd" or len(fused) > 2 or (
                len(fused) == 2 and fused[1] not in _ACTIVATIONS):
            raise SystemExit(f"{node.name}: unsupported fused ops {fused}")
        conv = graph_pb2.GraphDef().node.add()
        conv.CopyFrom(node)
        conv.name, conv.op = node.name + "/unfused_conv", base
        del conv.input[:]
        conv.input.extend(node.input[:2])
        for key in ("fused_ops", "num_args", "epsilon", "leakyrelu_alpha", "num_host_args"):
            if key in conv.attr:
                del conv.attr[key]
        if base == "DepthwiseConv2dNative" and "use_cudnn_on_gpu" in conv.attr:
            del conv.attr["use_cudnn_on_gpu"]
        conv.attr["T"].type = types_pb2.DT_FLOAT
        bias = graph_pb2.GraphDef().node.add()
        bias.name = node.name if len(fused) == 1 else node.name + "/unfused_bias"
        bias.op = "BiasAdd"
        bias.input.extend([conv.name, node.input[2]])
        bias.attr["T"].type = types_pb2.DT_FLOAT
        bias.attr["data_format"].CopyFrom(node.attr["data_format"])
        nodes.extend([conv, bias])
        if len(fused) == 2:
            act = graph_pb2.GraphDef().node.add()
            act.name, act.op = node.name, fused[1]
            act.input.append(bias.name)
            act.attr["T"].type = types_pb2.DT_FLOAT
            nodes.append(act)
    del graph.node[:]
    graph.node.extend(nodes)


def to_graphdef(model_json):
    model = json.load(open(model_json))
    if model.get("format") != "graph-model":
        raise SystemExit(f"{model_json}: not a TF.js graph model (format={model.get('format')})")
    graph = graph_pb2.GraphDef()
    json_format.ParseDict(model["modelTopology"], graph, ignore_unknown_fields=True)
    weights = {n: (d, a) for n, d, a in read_weights(os.path.dirname(model_json), model["weightsManifest"])}
    unfuse(graph)
    for node in graph.node:
        if node.op == "Const" and node.name in weights:
            dtype, arr = weights[node.name]
            np_dtype, tf_dtype = _DTYPES[dtype]
            tensor = node.attr["value"].tensor
            tensor.dtype = tf_dtype
            tensor.tensor_shape.Clear()
            for d in arr.shape:
                tensor.tensor_shape.dim.add().size = d
            tensor.tensor_content = np.ascontiguousarray(arr, dtype=np_dtype).tobytes()
            node.attr["dtype"].type = tf_dtype
    # Graph functions (the `library`) are not needed by the models we convert.
    graph.ClearField("library")
    outputs = list(model.get("signature", {}).get("outputs", {}).keys())
    return graph, outputs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_json")
    ap.add_argument("out_xml")
    args = ap.parse_args()
    import openvino as ov

    graph, outputs = to_graphdef(args.model_json)
    with tempfile.TemporaryDirectory() as tmp:
        pb = os.path.join(tmp, "frozen.pb")
        with open(pb, "wb") as f:
            f.write(graph.SerializeToString())
        outputs = [o.split(":")[0] for o in outputs]
        outputs = [o for o in outputs if any(n.name == o for n in graph.node)]
        model = ov.convert_model(pb)
    ov.save_model(model, args.out_xml, compress_to_fp16=False)
    for p in model.inputs:
        print("input ", p.get_any_name(), p.get_partial_shape())
    for p in model.outputs:
        print("output", p.get_any_name(), p.get_partial_shape())


if __name__ == "__main__":
    sys.exit(main())
