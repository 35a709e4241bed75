"""Writes a dynamically quantised (int8) copy of an ONNX model, the way the Hub's exports are made.

Weights of MatMul/Gemm become 8-bit integers with one scale per output channel (closer to the fp32
scores than one per tensor); activations are quantised on the fly. The file name says the variant, as in the Hub's sentence-transformers exports:
model_quint8_avx2.onnx (x86-64: unsigned weights, which AVX2 kernels multiply without saturating),
model_qint8_avx512_vnni.onnx (x86-64 with VNNI) and model_qint8_arm64.onnx (arm64: signed weights).

usage: quantize_int8.py MODEL_ONNX OUTPUT_ONNX --weights quint8|qint8
"""

import argparse

from onnxruntime.quantization import QuantType, quantize_dynamic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--weights", choices=["quint8", "qint8"], required=True)
    args = parser.parse_args()
    quantize_dynamic(
        args.model,
        args.output,
        weight_type=QuantType.QUInt8 if args.weights == "quint8" else QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gemm"],
        per_channel=True,
    )


if __name__ == "__main__":
    main()
