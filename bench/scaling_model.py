#!/usr/bin/python3
"""A scaling model for genolm's data-parallel training: how much of each step the gradient
all-reduce costs, for the default recipes, at 8 GPUs in one node and at 4 nodes of 8 GPUs.

Per step every rank all-reduces the fp32 gradient of every trainable parameter: B = 4 P bytes. A
ring all-reduce moves 2 (N-1)/N B bytes through each rank's slowest link, in buckets of 25 MB that
start while backward is still running (genolm's GradientReducer, like DDP). So

  t_comm = 2 (N-1)/N * B / bandwidth + buckets * latency
  t_step = tokens_per_rank_per_step / rank_throughput
  exposed = max(0, t_comm - overlap * t_backward),   t_backward ~ 2/3 t_step

overlap is the share of backward that communication can hide behind: 0 is no overlap (the worst
case), 0.5 a cautious figure (the last bucket, the embedding's, can never overlap).
  efficiency = t_step / (t_step + exposed)

The link is NVLink inside a node and the node's network share outside it (hierarchical NCCL
rings cross nodes once per step, so the inter-node term uses the per-GPU share of the node's
network). Throughputs per GPU are ASSUMPTIONS (no GPU was measured in this project yet); pass
measured ones with --lstm-tokens-per-s / --transformer-tokens-per-s. CPU Gloo figures measured by
bench/dist_bench.py calibrate the same formula on this machine.

  /usr/bin/python3 bench/scaling_model.py [--nvlink-gbs 300] [--network-gbs 25] ...
"""
import argparse


def parameters_awd_lstm(vocab, emb, hidden, layers):
    total = vocab * emb + vocab  # embedding and the tied decoder's bias
    for layer in range(layers):
        inp = emb if layer == 0 else hidden
        out = emb if layer == layers - 1 else hidden
        total += 4 * out * (inp + out) + 8 * out
    return total


def parameters_transformer(vocab, d, ff, layers, context):
    per_layer = 4 * d * d + 4 * d + 2 * d * ff + ff + d + 4 * d
    return vocab * d + layers * per_layer + 2 * d


def efficiency(params, tokens_per_step, tokens_per_s, ranks, bandwidth_gbs, latency_s=20e-6,
               bucket_bytes=25 << 20, overlap=1.0):
    grad_bytes = 4 * params
    t_step = tokens_per_step / tokens_per_s
    buckets = max(1, -(-grad_bytes // bucket_bytes))
    t_comm = 2 * (ranks - 1) / ranks * grad_bytes / (bandwidth_gbs * 1e9) + buckets * latency_s
    exposed = max(0.0, t_comm - overlap * (2.0 / 3.0) * t_step)
    return t_step, t_comm, t_step / (t_step + exposed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nvlink-gbs", type=float, default=300.0,
                        help="all-reduce bus bandwidth inside a node, GB/s (H100 NVLink, NCCL)")
    parser.add_argument("--network-gbs", type=float, default=25.0,
                        help="network share per GPU between nodes, GB/s (8 x 200 Gb/s HDR per node)")
    parser.add_argument("--lstm-tokens-per-s", type=float, default=150e3,
                        help="AWD-LSTM 400-1152 tokens/s per GPU (assumed)")
    parser.add_argument("--overlap", type=float, default=0.5,
                        help="share of backward that hides communication")
    parser.add_argument("--transformer-tokens-per-s", type=float, default=400e3,
                        help="transformer d512 x 6 bf16 tokens/s per GPU (assumed)")
    args = parser.parse_args()

    recipes = [
        ("ecoli_awd_lstm (3-mers, 400-1152 x3)", parameters_awd_lstm(71, 400, 1152, 3), 64 * 70,
         args.lstm_tokens_per_s),
        ("dna_transformer (6-mers/3, d512 x6)", parameters_transformer(4103, 512, 2048, 6, 512),
         16 * 512, args.transformer_tokens_per_s),
    ]
    print("| recipe | parameters | grad MB/step | per-GPU batch | step ms | 8 GPUs (NVLink): comm ms,"
          " efficiency no overlap / overlapped | 4 x 8 GPUs: comm ms, efficiency | 4 x 8, accumulate 4 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, params, tokens, speed in recipes:
        t_step, c8, n8 = efficiency(params, tokens, speed, 8, args.nvlink_gbs, overlap=0)
        _, _, e8 = efficiency(params, tokens, speed, 8, args.nvlink_gbs, overlap=args.overlap)
        _, c32, n32 = efficiency(params, tokens, speed, 32, args.network_gbs, overlap=0)
        _, _, e32 = efficiency(params, tokens, speed, 32, args.network_gbs, overlap=args.overlap)
        # Gradient accumulation over 4 micro-batches all-reduces once per 4 batches' compute.
        _, _, n32x4 = efficiency(params, 4 * tokens, speed, 32, args.network_gbs, overlap=0)
        _, _, e32x4 = efficiency(params, 4 * tokens, speed, 32, args.network_gbs,
                                 overlap=args.overlap / 4)
        print(f"| {name} | {params / 1e6:.1f} M | {4 * params / 2**20:.0f} | {tokens} tokens | "
              f"{1e3 * t_step:.1f} | {1e3 * c8:.2f}: {100 * n8:.0f}% / {100 * e8:.0f}% | "
              f"{1e3 * c32:.1f}: {100 * n32:.0f}% / {100 * e32:.0f}% | "
              f"{100 * n32x4:.0f}% / {100 * e32x4:.0f}% |")


if __name__ == "__main__":
    main()
