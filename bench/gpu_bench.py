#!/usr/bin/python3
"""GPU benchmark (issue 5): genolm's pretraining throughput beside its PyTorch-Python twin on one
GPU, and the transformer's model-FLOPs utilisation (MFU) against the GPU's measured matmul peak.

One script, run from anywhere on a machine with one NVIDIA GPU and a CUDA build of PyTorch:
  1. Build. Unless --build-dir (default build-cuda/) already holds genolm and genolm-train, or
     --no-build is given, it configures and builds genolm against the LibTorch inside that
     PyTorch (docs/usage.md, "GPU build"):
       cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release \\
             -DCMAKE_PREFIX_PATH=$(PYTHON -c 'import torch;print(torch.utils.cmake_prefix_path)')
       cmake --build build-cuda
     PYTHON is --python (default: the interpreter running this script); it also runs the twin
     and the peak measurement, so every Python-side figure comes from the same PyTorch. The
     torch, CUDA and cuDNN versions and the GPU's name are printed first.
  2. Corpus. `genolm corpus` with its default tokenizer (3-mers, stride 1, as bench/lm_bench.py)
     on the embedded human chr22 slice (1 Mbp, about 850k train tokens), or on the --fasta files
     given (several allowed; a GPU eats 850k tokens in seconds, so larger is better), or a
     prebuilt --corpus. Built once per set of inputs and cached under bench/out/gpu/.
  3. Matmul peak, measured with PyTorch on the same GPU: square products n x n x n for each n of
     --peak-sizes (4096, 8192, 16384), 3 warm-up products, then --peak-trials timings of
     --peak-inner back-to-back products between two CUDA events; the best trial over all sizes
     is the peak, 2 n^3 FLOPs per product. Measured for bf16, for fp32 with TF32 off (PyTorch's
     and LibTorch's default for matmuls) and, for reference, fp32 with TF32 on.
  4. Throughput. For every configuration genolm (`genolm pretrain`) and the twin
     (bench/python_lm_twin.py --device cuda) run alternately --repeats times on the same corpus,
     batch, BPTT or context, precision, optimizer (AdamW betas 0.9/0.99, eps 1e-5, weight decay
     0.01, clipping 0.25, constant lr) and thread count, one process at a time; each keeps its
     best. Tokens per second are measured inside each program after a warm-up of w = steps/3
     steps, over the next 3w steps, so start-up, CUDA initialisation, corpus loading and
     evaluation are excluded:
       * genolm: the mean `tokens_per_s` of the train rows of metrics.jsonl after the first
         (train.log_every = w, train.max_steps = 4w), exactly as bench/lm_bench.py reads them.
         As a cross-check the same rows' `wall_s` give tokens / elapsed wall time;
       * the twin: its JSON line (w warm-up steps, then 3w timed steps between two
         torch.cuda.synchronize() calls).
     Configurations: the AWD-LSTM at fastai's size (emb 400, hidden 1152, 3 layers, bptt 70) at
     batch 32 and 64, and a transformer sized for a GPU (default d 1024, MLP 4096, 12 layers, 16
     heads, context 1024, batch 32), each in fp32 and bf16. Sizes are options.
     genolm is asked for the GPU with `--set train.device=cuda` (--device-key names the key) and
     precision with `--set train.precision=fp32|bf16`; a run whose run.json says it trained
     elsewhere than on the GPU is reported as failed.
  5. MFU of the transformer. Model FLOPs per token = 3 x (2 x W + 4 x T x d x L), where
     W = L x (4 d^2 + 2 d ff) are the non-embedding weights (attention projections and MLP;
     biases, norms, embedding and the tied head left out), T the context, d the width and L the
     layers: 2 FLOPs per weight per token forward, plus attention scores and their weighted sum
     (2 x 2 x T x d per layer, counted in full although causal), times 3 for forward and
     backward. This is bench/lm_bench.py's formula and the one of PaLM's MFU (6N + 12 L d T).
     MFU = tokens/s x FLOPs per token / measured matmul peak of the same precision (bf16 for
     bf16; fp32 with TF32 off for fp32).
  6. Report: a Markdown table ready for bench/RESULTS.md (model, precision, batch, genolm and
     twin tokens/s, their ratio, genolm's and the twin's MFU), the exact command line, the
     device, the peaks, the FLOPs formula and the goals (AWD-LSTM at least 1.0x the twin;
     transformer bf16 at least 40% MFU); the raw results, every repeat included, go to --out
     (default bench/out/gpu_bench.json) as JSON.

Usage (from the repository root; the GPU machine needs the Debian libraries of scripts/setup,
or the same from its package manager, and the embedded genomes: scripts/fetch-genomes):
  python3 bench/gpu_bench.py [--repeats 2] [--steps 60] [--fasta A.fa B.fa.gz ...]
  python3 bench/gpu_bench.py --only transformer --tf-batch 64
A check of the whole pipeline on a CPU (tiny models, a few steps, the CPU build in build/):
  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/gpu_bench.py --device cpu --smoke \\
      --no-build --build-dir build --threads 1
Run it alone on the machine: a second job on the GPU or on the CPU cores distorts every figure.
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENOME = os.path.join(ROOT, ".cache", "genomes", "human_chr22_20-21M.fa")
TWIN = os.path.join(ROOT, "bench", "python_lm_twin.py")
WORK = os.path.join(ROOT, "bench", "out", "gpu")
GOAL_LSTM_RATIO = 1.0
GOAL_TRANSFORMER_MFU = 0.40
FLOPS_FORMULA = ("model FLOPs per token = 3 x (2 x W + 4 x T x d x L), W = L x (4 d^2 + 2 d ff) "
                 "non-embedding weights, T context, d width, L layers (bench/lm_bench.py; "
                 "PaLM's 6N + 12 L d T)")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def transformer_flops_per_token(emb, hidden, layers, window):
    """bench/lm_bench.py's formula (kept identical so CPU and GPU shares compare): training is 3x
    the forward; the forward is 2 FLOPs per non-embedding weight per token plus the attention
    scores and their weighted sum, 2 x 2 x window x emb per layer per token (counted in full,
    causal mask or not)."""
    weights = layers * (4 * emb * emb + 2 * emb * hidden)
    attention = layers * 4 * window * emb
    return 3 * (2 * weights + attention)


# --------------------------------------------------------------------------------------------
# Probe: runs under --python (the interpreter with the CUDA PyTorch), prints one JSON line.
# --------------------------------------------------------------------------------------------

def probe_info(torch, device):
    info = {"python": sys.executable, "torch": torch.__version__, "device": str(device)}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update({
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "device_name": props.name,
            "capability": f"{props.major}.{props.minor}",
            "memory_gb": round(props.total_memory / 2 ** 30, 1),
            "multiprocessors": props.multi_processor_count,
            "tf32_matmul_default": torch.backends.cuda.matmul.allow_tf32,
            "tf32_cudnn_default": torch.backends.cudnn.allow_tf32,
        })
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as handle:
                names = [line.split(":", 1)[1].strip() for line in handle
                         if line.startswith("model name")]
            if names:
                name = names[0]
        except OSError:
            pass
        info.update({"cuda": None, "cudnn": None, "device_name": f"{name} (CPU, "
                     f"{torch.get_num_threads()} threads)"})
    return info


def probe_peak(torch, device, sizes, trials, inner):
    """Best matmul throughput (FLOP/s) per precision and per size; see the module docstring."""
    cuda = device.type == "cuda"
    precisions = [("bf16", torch.bfloat16, None), ("fp32", torch.float32, False)]
    if cuda:
        precisions.append(("tf32", torch.float32, True))
    peaks = {}
    for name, dtype, tf32 in precisions:
        by_size = {}
        for n in sizes:
            if cuda:
                saved = torch.backends.cuda.matmul.allow_tf32
                torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
            try:
                a = torch.randn(n, n, device=device).to(dtype)
                b = torch.randn(n, n, device=device).to(dtype)
                c = torch.empty(n, n, device=device, dtype=dtype)
                for _ in range(3):
                    torch.mm(a, b, out=c)
                best = float("inf")
                if cuda:
                    torch.cuda.synchronize(device)
                    for _ in range(trials):
                        start = torch.cuda.Event(enable_timing=True)
                        end = torch.cuda.Event(enable_timing=True)
                        start.record()
                        for _ in range(inner):
                            torch.mm(a, b, out=c)
                        end.record()
                        end.synchronize()
                        best = min(best, start.elapsed_time(end) / 1000.0 / inner)
                else:
                    for _ in range(trials):
                        tick = time.perf_counter()
                        for _ in range(inner):
                            torch.mm(a, b, out=c)
                        best = min(best, (time.perf_counter() - tick) / inner)
                by_size[str(n)] = 2.0 * n ** 3 / best
                del a, b, c
                if cuda:
                    torch.cuda.empty_cache()
            finally:
                if cuda:
                    torch.backends.cuda.matmul.allow_tf32 = saved
        peaks[name] = {"flops": max(by_size.values()), "by_size": by_size}
    return peaks


def probe(args):
    import torch
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit(f"{sys.executable}: PyTorch {torch.__version__} sees no CUDA device "
                     f"(CUDA build: {torch.version.cuda}); pass --python with a CUDA PyTorch")
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
    result = probe_info(torch, device)
    if args.probe == "peak":
        sizes = [int(n) for n in args.peak_sizes.split(",")]
        result["peak_sizes"] = sizes
        result["peaks"] = probe_peak(torch, device, sizes, args.peak_trials, args.peak_inner)
    print(json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# Driver helpers
# --------------------------------------------------------------------------------------------

def run_probe(args, env, kind):
    command = [args.python, os.path.abspath(__file__), "--probe", kind, "--device",
               args.child_device, "--threads", str(args.threads), "--peak-sizes",
               args.peak_sizes, "--peak-trials", str(args.peak_trials), "--peak-inner",
               str(args.peak_inner)]
    result = subprocess.run(command, env=env, capture_output=True, text=True,
                            timeout=args.timeout)
    if result.returncode != 0:
        sys.exit(f"probe failed: {shlex.join(command)}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def binaries(build_dir):
    return [os.path.join(build_dir, name) for name in ("genolm", "genolm-train")]


def newest_source_mtime():
    newest, newest_path = 0.0, None
    for pattern in ("src/**/*", "tokenizers/**/*", "CMakeLists.txt"):
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            if os.path.isfile(path) and os.path.getmtime(path) > newest:
                newest, newest_path = os.path.getmtime(path), path
    return newest, newest_path


def ensure_build(args, env):
    """Configure and build unless the binaries are there (or --no-build); warn when stale."""
    build_dir = args.build_dir
    present = all(os.access(path, os.X_OK) for path in binaries(build_dir))
    if args.no_build or (present and not args.rebuild):
        if not present:
            sys.exit(f"{build_dir}: no genolm and genolm-train binaries (drop --no-build to "
                     f"build them)")
        log(f"using the existing build in {build_dir}")
        newest, path = newest_source_mtime()
        oldest_binary = min(os.path.getmtime(p) for p in binaries(build_dir))
        if newest > oldest_binary:
            log(f"warning: {os.path.relpath(path, ROOT)} is newer than the binaries in "
                f"{build_dir}; pass --rebuild to rebuild first")
        return
    query = "import torch;print(torch.utils.cmake_prefix_path)"
    prefix = subprocess.run([args.python, "-c", query], env=env, check=True,
                            capture_output=True, text=True).stdout.strip()
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        configure = ["cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja",
                     "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"]
        configure += args.cmake_arg
        log("$ " + shlex.join(configure))
        subprocess.run(configure, check=True, cwd=ROOT, env=env)
    command = ["cmake", "--build", build_dir]
    log("$ " + shlex.join(command))
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def check_links_cuda(args):
    """Warn when genolm-train does not load a CUDA LibTorch (a CPU build would never use it)."""
    try:
        result = subprocess.run(["ldd", binaries(args.build_dir)[1]], capture_output=True,
                                text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    linked = bool(re.search(r"lib(torch|c10)_cuda", result.stdout))
    if not linked:
        log(f"warning: {binaries(args.build_dir)[1]} does not link libtorch_cuda/libc10_cuda "
            f"(a CPU LibTorch?); genolm's runs would not use the GPU")
    return linked


def prepare_corpus(args, genolm, env):
    """The corpus folder (built once per set of inputs) and its corpus.json."""
    if args.corpus:
        corpus = os.path.abspath(args.corpus)
    else:
        inputs = [os.path.abspath(path) for path in (args.fasta or [GENOME])]
        for path in inputs:
            if not os.path.isfile(path):
                hint = " (scripts/fetch-genomes fetches it)" if path == GENOME else ""
                sys.exit(f"{path}: no such file{hint}")
        stamp = json.dumps([[p, os.path.getsize(p), os.path.getmtime(p)] for p in inputs])
        corpus = os.path.join(WORK, "corpus-" + hashlib.sha1(stamp.encode()).hexdigest()[:12])
        if not os.path.exists(os.path.join(corpus, "corpus.json")):
            command = [genolm, "--threads", str(args.threads), "--log-level", "warn", "corpus",
                       "--input", *inputs, "--out", corpus, "--overwrite"]
            log("$ " + shlex.join(command))
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    with open(os.path.join(corpus, "corpus.json")) as handle:
        meta = json.load(handle)
    return corpus, meta


def tail(text, lines=25):
    return "\n".join((text or "").strip().splitlines()[-lines:])


def run_genolm(args, env, genolm, corpus, config, steps):
    """One `genolm pretrain`; tokens/s from metrics.jsonl as bench/lm_bench.py reads them."""
    run_dir = os.path.join(WORK, "runs")
    run_name = f"{config['arch']}_b{config['batch']}_{config['precision']}"
    shutil.rmtree(os.path.join(run_dir, run_name), ignore_errors=True)
    log_every = max(1, steps // 3)
    sets = {
        "run.dir": run_dir, "run.name": run_name, "data.corpus": corpus,
        "model.arch": config["arch"], "model.emb_size": config["emb"],
        "model.hidden_size": config["hidden"], "model.layers": config["layers"],
        "train.batch_size": config["batch"], "train.bptt": config["window"],
        "train.random_bptt": "false", "train.precision": config["precision"],
        "train.schedule": "constant", "train.lr": config["lr"],
        "train.max_steps": log_every * 4, "train.log_every": log_every,
        "train.eval_every": 100000, "train.eval_tokens": 1000,
        "train.checkpoint_every": 100000,
    }
    if config["arch"] == "transformer":
        sets.update({"model.heads": config["heads"], "model.context": config["window"]})
    sets[args.device_key] = "cpu" if args.device == "cpu" else "cuda"
    command = [genolm, "--threads", str(args.threads), "--log-level", "warn", "pretrain"]
    for key, value in sets.items():
        command += ["--set", f"{key}={value}"]
    for extra in args.genolm_set:
        command += ["--set", extra]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=ROOT, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s", "command": shlex.join(command)}
    if result.returncode != 0:
        return {"error": f"exit status {result.returncode}: {tail(result.stderr)}",
                "command": shlex.join(command)}
    folder = os.path.join(run_dir, run_name)
    rows = [json.loads(line) for line in open(os.path.join(folder, "metrics.jsonl"))]
    train = [r for r in rows if r["split"] == "train"]
    timed = train[1:]  # the first window warms up (CUDA initialisation, autotuning)
    if not timed:
        return {"error": "metrics.jsonl has no train row after the first window",
                "command": shlex.join(command)}
    run_info = {}
    if os.path.exists(os.path.join(folder, "run.json")):
        with open(os.path.join(folder, "run.json")) as handle:
            run_info = json.load(handle)
    device = run_info.get("device")
    out = {
        "tokens_per_s": sum(r["tokens_per_s"] for r in timed) / len(timed),
        "window_tokens_per_s": [r["tokens_per_s"] for r in timed],
        "loader_tokens_per_s": min(r.get("loader_tokens_per_s", float("nan")) for r in timed),
        "first_loss": train[0]["loss"], "last_loss": train[-1]["loss"],
        "device": device, "params": run_info.get("model", {}).get("parameters"),
        "process_s": round(time.perf_counter() - started, 2), "command": shlex.join(command),
    }
    # Cross-check: tokens over the wall time between the first and the last train row.
    steps_timed = train[-1]["step"] - train[0]["step"]
    seconds = train[-1]["wall_s"] - train[0]["wall_s"]
    if seconds > 0:
        out["wall_tokens_per_s"] = steps_timed * config["batch"] * config["window"] / seconds
    if args.device != "cpu" and str(device).startswith("cpu"):
        out["error"] = (f"genolm trained on {device!r} (run.json), not on the GPU: is "
                        f"{args.build_dir} a CUDA build that knows --set {args.device_key}=cuda?")
    return out


def run_twin(args, env, corpus, config, steps):
    warmup = max(1, steps // 3)
    command = [args.python, TWIN, "--corpus", corpus, "--arch", config["arch"],
               "--emb", str(config["emb"]), "--hidden", str(config["hidden"]),
               "--layers", str(config["layers"]), "--heads", str(config["heads"]),
               "--context", str(config["window"]), "--bptt", str(config["window"]),
               "--batch", str(config["batch"]), "--threads", str(args.threads),
               "--device", args.child_device, "--precision", config["precision"],
               "--lr", str(config["lr"]), "--warmup-steps", str(warmup),
               "--steps", str(3 * warmup), "--log-every", "0"]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                                timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s", "command": shlex.join(command)}
    if result.returncode != 0 or not result.stdout.strip():
        return {"error": f"exit status {result.returncode}: {tail(result.stderr)}",
                "command": shlex.join(command)}
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out["process_s"] = round(time.perf_counter() - started, 2)
    out["command"] = shlex.join(command)
    return out


def best(runs):
    good = [r for r in runs if "error" not in r]
    return max(good, key=lambda r: r["tokens_per_s"]) if good else None


def configurations(args):
    precisions = [p for p in args.precisions.split(",") if p]
    configs = []
    for batch in [int(b) for b in args.lstm_batches.split(",") if b]:
        for precision in precisions:
            configs.append({
                "name": args.lstm_name, "arch": "awd_lstm", "emb": args.lstm_emb,
                "hidden": args.lstm_hidden, "layers": args.lstm_layers, "heads": 8,
                "batch": batch, "window": args.lstm_bptt, "precision": precision,
                "lr": args.lstm_lr})
    for precision in precisions:
        configs.append({
            "name": args.tf_name, "arch": "transformer", "emb": args.tf_width,
            "hidden": args.tf_ff, "layers": args.tf_layers, "heads": args.tf_heads,
            "batch": args.tf_batch, "window": args.tf_context, "precision": precision,
            "lr": args.tf_lr})
    return [c for c in configs if args.only in c["name"] or args.only == c["arch"]]


def child_environment(args):
    """cuda:N is passed to the children as CUDA_VISIBLE_DEVICES (genolm takes cpu/cuda/auto)."""
    env = dict(os.environ)
    args.child_device = args.device
    match = re.fullmatch(r"cuda:(\d+)", args.device)
    if match:
        index = int(match.group(1))
        visible = [v for v in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
        if visible:
            if index >= len(visible):
                sys.exit(f"--device {args.device}: CUDA_VISIBLE_DEVICES has {len(visible)}")
            env["CUDA_VISIBLE_DEVICES"] = visible[index]
        else:
            env["CUDA_VISIBLE_DEVICES"] = str(index)
        args.child_device = "cuda"
    return env


def percent(value):
    return "-" if value is None else f"{100 * value:.0f}%"


def number(value):
    return "failed" if value is None else f"{value:,.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda",
                        help="cuda (default), cuda:N, or cpu (with --smoke: a pipeline check)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny models, a few steps, small peak products: checks the pipeline")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter whose PyTorch builds genolm, runs the twin and "
                             "measures the peak (default: this one)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-cuda"))
    parser.add_argument("--no-build", action="store_true", help="use --build-dir as it is")
    parser.add_argument("--rebuild", action="store_true",
                        help="run the build even when the binaries exist (incremental)")
    parser.add_argument("--cmake-arg", action="append", default=[],
                        help="extra argument for cmake's configure step (repeatable)")
    parser.add_argument("--fasta", nargs="+", help="FASTA/FASTQ files for the corpus "
                        "(default: the embedded human chr22 slice)")
    parser.add_argument("--corpus", help="a prebuilt genolm corpus folder instead of --fasta")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="CPU threads for genolm and the twin alike")
    parser.add_argument("--steps", type=int, default=60,
                        help="steps per run: a third warm up, the rest are timed")
    parser.add_argument("--repeats", type=int, default=2,
                        help="alternate genolm and the twin this many times; keep each one's best")
    parser.add_argument("--only", default="", help="run the configurations whose name has this "
                        "(or whose arch is this: awd_lstm, transformer)")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--lstm-emb", type=int, default=400)
    parser.add_argument("--lstm-hidden", type=int, default=1152)
    parser.add_argument("--lstm-layers", type=int, default=3)
    parser.add_argument("--lstm-bptt", type=int, default=70)
    parser.add_argument("--lstm-batches", default="32,64")
    parser.add_argument("--lstm-lr", type=float, default=2e-3)
    parser.add_argument("--tf-width", type=int, default=1024)
    parser.add_argument("--tf-ff", type=int, default=4096)
    parser.add_argument("--tf-layers", type=int, default=12)
    parser.add_argument("--tf-heads", type=int, default=16)
    parser.add_argument("--tf-context", type=int, default=1024)
    parser.add_argument("--tf-batch", type=int, default=32,
                        help="raise it until the GPU's memory is nearly full (the twin reports "
                             "max_memory_gb)")
    parser.add_argument("--tf-lr", type=float, default=5e-4)
    parser.add_argument("--device-key", default="train.device",
                        help="genolm's recipe key for the device, set to cuda (not set on cpu)")
    parser.add_argument("--genolm-set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra --set for every genolm pretrain run (repeatable)")
    parser.add_argument("--peak-sizes", default="4096,8192,16384")
    parser.add_argument("--peak-trials", type=int, default=5)
    parser.add_argument("--peak-inner", type=int, default=10)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per child process")
    parser.add_argument("--out", help="raw results as JSON (default bench/out/gpu_bench.json; "
                        "bench/out/gpu_bench_smoke.json with --smoke)")
    parser.add_argument("--probe", choices=["info", "peak"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        parser.error(f"--device {args.device}: expected cuda, cuda:N or cpu")
    if args.probe:
        return probe(args)

    if args.smoke:
        # Every stage runs, on sizes a CPU core trains in seconds.
        args.lstm_emb, args.lstm_hidden, args.lstm_layers, args.lstm_bptt = 16, 32, 3, 16
        args.lstm_batches = "4"
        args.tf_width, args.tf_ff, args.tf_layers, args.tf_heads = 32, 64, 2, 2
        args.tf_context, args.tf_batch = 32, 4
        args.steps, args.repeats = 3, 1
        args.peak_sizes, args.peak_trials, args.peak_inner = "256", 3, 2
        args.lstm_name = "AWD-LSTM smoke (emb 16, hidden 32, 3 layers)"
    else:
        args.lstm_name = (f"AWD-LSTM fastai size (emb {args.lstm_emb}, hidden {args.lstm_hidden}, "
                          f"{args.lstm_layers} layers, bptt {args.lstm_bptt})")
    args.tf_name = (f"transformer (d {args.tf_width}, ff {args.tf_ff}, {args.tf_layers} layers, "
                    f"{args.tf_heads} heads, context {args.tf_context})")
    if args.steps < 3 or args.repeats < 1:
        parser.error("--steps must be at least 3 and --repeats at least 1")
    args.build_dir = os.path.abspath(args.build_dir)
    out_path = args.out or os.path.join(
        ROOT, "bench", "out", "gpu_bench_smoke.json" if args.smoke else "gpu_bench.json")
    command_line = shlex.join([sys.executable] + sys.argv)
    env = child_environment(args)
    os.makedirs(WORK, exist_ok=True)

    # 1. Environment and build.
    info = run_probe(args, env, "info")
    log(f"python {info['python']}: torch {info['torch']}, CUDA {info['cuda']}, cuDNN "
        f"{info['cudnn']}; device {info['device_name']}")
    ensure_build(args, env)
    genolm = binaries(args.build_dir)[0]
    version = subprocess.run([genolm, "--version"], capture_output=True, text=True,
                             env=env).stdout.strip()
    links_cuda = check_links_cuda(args) if args.device != "cpu" else None

    # 2. Corpus.
    corpus, meta = prepare_corpus(args, genolm, env)
    train_tokens = meta["splits"]["train"]["tokens"]
    log(f"corpus {corpus}: {train_tokens:,} train tokens, vocabulary {meta['vocab_size']}, from "
        f"{', '.join(os.path.basename(i['path']) for i in meta.get('inputs', []))}")

    # 3. Matmul peak.
    peak_info = run_probe(args, env, "peak")
    peaks = {name: value["flops"] for name, value in peak_info["peaks"].items()}
    log("matmul peak: " + ", ".join(f"{name} {value / 1e12:.2f} TFLOP/s"
                                    for name, value in peaks.items()))

    # 4. Throughput, alternating genolm and the twin.
    results = []
    failed = False
    for config in configurations(args):
        label = f"{config['name']}, batch {config['batch']}, {config['precision']}"
        if (train_tokens - 1) // config["batch"] < config["window"] + 1:
            log(f"skipped {label}: {train_tokens} train tokens are too few for {config['batch']} "
                f"streams of {config['window'] + 1} tokens (give larger --fasta)")
            continue
        genolm_runs, twin_runs = [], []
        for repeat in range(args.repeats):
            # After a failure (out of memory, say) that side is not tried again.
            if not any("error" in r for r in genolm_runs):
                genolm_runs.append(run_genolm(args, env, genolm, corpus, config, args.steps))
                log(f"[{repeat + 1}/{args.repeats}] genolm {label}: " +
                    (genolm_runs[-1].get("error") or
                     f"{genolm_runs[-1]['tokens_per_s']:,.0f} tokens/s"))
            if not any("error" in r for r in twin_runs):
                twin_runs.append(run_twin(args, env, corpus, config, args.steps))
                log(f"[{repeat + 1}/{args.repeats}] twin   {label}: " +
                    (twin_runs[-1].get("error") or
                     f"{twin_runs[-1]['tokens_per_s']:,.0f} tokens/s"))
        g, t = best(genolm_runs), best(twin_runs)
        failed = failed or g is None or t is None
        row = dict(config)
        row.update({
            "genolm_tokens_per_s": g and g["tokens_per_s"],
            "twin_tokens_per_s": t and t["tokens_per_s"],
            "ratio": g["tokens_per_s"] / t["tokens_per_s"] if g and t else None,
            "genolm_params": g and g.get("params"), "twin_params": t and t.get("params"),
            "twin_lstm_dtype": t and t.get("lstm_dtype"),
            "genolm_runs": genolm_runs, "twin_runs": twin_runs,
        })
        if config["arch"] == "transformer":
            flops = transformer_flops_per_token(config["emb"], config["hidden"],
                                                config["layers"], config["window"])
            peak = peaks[config["precision"]]
            row["flops_per_token"] = flops
            row["genolm_mfu"] = g and g["tokens_per_s"] * flops / peak
            row["twin_mfu"] = t and t["tokens_per_s"] * flops / peak
        if g and g.get("wall_tokens_per_s") and \
                abs(g["wall_tokens_per_s"] / g["tokens_per_s"] - 1) > 0.1:
            log(f"note: genolm's wall-clock tokens/s ({g['wall_tokens_per_s']:,.0f}) differ from "
                f"its windows' tokens_per_s ({g['tokens_per_s']:,.0f}) by more than 10%")
        results.append(row)

    # 5-6. Report.
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    device_line = info["device_name"]
    if info.get("capability"):
        device_line += (f" (sm {info['capability']}, {info['memory_gb']} GiB, "
                        f"{info['multiprocessors']} SMs)")
    print()
    print(f"Command: `{command_line}`")
    print(f"Device: {device_line}; torch {info['torch']}, CUDA {info['cuda']}, cuDNN "
          f"{info['cudnn']}; {version}; {args.threads} CPU threads; {date}")
    tokenizer = meta.get("tokenizer", {})
    params = tokenizer.get("parameters", {})
    kind = (f"{params['k']}-mers, stride {params.get('stride', 1)}" if "k" in params
            else tokenizer.get("kind", "?"))
    inputs = ", ".join(os.path.basename(i["path"]) for i in meta.get("inputs", []))
    print(f"Corpus: {inputs}, {kind}, {train_tokens:,} train tokens, vocabulary "
          f"{meta['vocab_size']}. Each run: {args.steps // 3} warm-up steps, "
          f"{3 * (args.steps // 3)} timed; genolm and the twin alternate, best of {args.repeats}")
    print("Matmul peak (best n^3 product, n in " + args.peak_sizes + "): " +
          ", ".join(f"{name}{' (TF32 off)' if name == 'fp32' else ''} "
                    f"{value / 1e12:.2f} TFLOP/s" for name, value in peaks.items()))
    print(f"MFU: tokens/s x FLOPs per token / the peak of the same precision; {FLOPS_FORMULA}")
    print()
    print("| model | precision | batch | genolm tokens/s | twin tokens/s | genolm / twin | "
          "genolm MFU | twin MFU |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"| {r['name']} | {r['precision']} | {r['batch']} x {r['window']} | "
              f"{number(r['genolm_tokens_per_s'])} | {number(r['twin_tokens_per_s'])} | {ratio} | "
              f"{percent(r.get('genolm_mfu'))} | {percent(r.get('twin_mfu'))} |")
    print()
    for r in results:
        if r["twin_lstm_dtype"] and r["precision"] == "bf16" and r["twin_lstm_dtype"] != "bfloat16":
            print(f"- The twin's LSTM layers ran in {r['twin_lstm_dtype']} under bf16 autocast "
                  f"(batch {r['batch']}).")
        if r["genolm_params"] and r["twin_params"] and r["genolm_params"] != r["twin_params"]:
            print(f"- {r['arch']} batch {r['batch']} {r['precision']}: genolm counts "
                  f"{r['genolm_params']:,} parameters, the twin {r['twin_params']:,}.")
    goals = []
    for r in results:
        if r["arch"] == "awd_lstm":
            met = r["ratio"] is not None and r["ratio"] >= GOAL_LSTM_RATIO
            goals.append(f"AWD-LSTM batch {r['batch']} {r['precision']}: "
                         f"{'-' if r['ratio'] is None else format(r['ratio'], '.2f')}x the twin "
                         f"(goal {GOAL_LSTM_RATIO:.1f}x): {'met' if met else 'NOT met'}")
        elif r["precision"] == "bf16":
            mfu = r.get("genolm_mfu")
            met = mfu is not None and mfu >= GOAL_TRANSFORMER_MFU
            goals.append(f"transformer bf16: {percent(mfu)} MFU (goal "
                         f"{100 * GOAL_TRANSFORMER_MFU:.0f}%): {'met' if met else 'NOT met'}")
    for goal in goals:
        print(f"- {goal}")
    for r in results:
        for side in ("genolm_runs", "twin_runs"):
            for run in r[side]:
                if "error" in run:
                    print(f"- {side[:-5]} failed ({r['arch']} batch {r['batch']} "
                          f"{r['precision']}): {run['error'].splitlines()[0]}\n"
                          f"  {run['command']}")

    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as handle:
        json.dump({"command": command_line, "date": date, "device": info,
                   "genolm_version": version, "build_dir": args.build_dir,
                   "genolm_links_cuda": links_cuda,
                   "corpus": {"path": corpus, "train_tokens": train_tokens,
                              "vocab_size": meta["vocab_size"],
                              "inputs": [i["path"] for i in meta.get("inputs", [])]},
                   "threads": args.threads, "steps": args.steps, "repeats": args.repeats,
                   "peaks": peak_info["peaks"], "peak_sizes": peak_info["peak_sizes"],
                   "flops_formula": FLOPS_FORMULA, "goals": goals, "results": results},
                  handle, indent=2)
    print(f"\nraw results: {os.path.relpath(out_path)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
