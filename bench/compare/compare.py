"""Side-by-side training of the comparison models in edgetrain, PyTorch and NNTrainer.

Each model is defined three times: bench/compare/models/M.ini (edgetrain),
torch_models.py --model M (PyTorch, Debian's python3-torch) and nntrainer/M.ini (the
prebuilt NNTrainer peer, run only when its folder exists). Every run is a child process
of its own, trained on Fashion-MNIST with the same batch size, optimizer and epochs; runs
alternate (one of each per round) and the best round is kept. Per model it prints, for
each framework: samples/s, time per epoch, whole-process peak RSS, baseline RSS (the
same program having only built the model), training-only memory (peak minus baseline),
final training loss, test loss/accuracy; then edgetrain's ratios to each peer, its
planned arena against the naive sum and the lower bound, and (--swap) the time ratio of a
run whose arena is held under a quarter of its planned peak by swapping to disk.

    bench/memory/run.sh                      # memory view, all models
    bench/speed/run.sh                       # speed view: batch 64, then 1 and 8
    python3 bench/compare/compare.py --models cnn,mlp --rounds 2
    python3 bench/compare/compare.py --batches 1,8 --limit 6000   # first 6,000 images

--limit N trains every framework on the first N training images (and tests on the first
min(N, 10000) test images), written to the work folder in each one's format: a few steps
(--limit 256) is the tiny mode CI runs so the harness cannot rot.

Peak RSS is the child's ru_maxrss as GNU time (/usr/bin/time, Debian's `time`) reports
it, not the ru_maxrss that wait4() would give this script: Linux carries the peak RSS of
the memory a process had before exec into its ru_maxrss, and a child of this Python
process (10-15 MiB resident) starts with Python's memory, so every figure would be at
least that, hiding most of a small model's memory. GNU time, a small C program, starts
the child instead: the floor it adds (about 2 MiB) is below any figure measured here.

Baselines are each program's own peak RSS once the model is built, as it reports it:
NNTrainer's `--no-train` run (load, compile, initialize, which allocates its weights; its
"peak_rss_mib", the figure the issue quotes), PyTorch's `--no-train` run (import torch,
build the model and its optimizer; getrusage), and edgetrain's baseline_rss_kib in its
--json output (the training process right after the model is compiled and initialized,
before any dataset is opened or any step run: NNTrainer's point). Both then hold the
weights; edgetrain's arena pages become resident only when first touched, so its
activations, gradients and optimizer state count as training memory.
"""
import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CLI = os.path.join(ROOT, "build", "bin", "edgetrain")
GNU_TIME = "/usr/bin/time"
DEFAULT_PEER = os.path.normpath(os.path.join(ROOT, "..", "shared", "peers", "nntrainer"))
MODELS = ["cnn", "mlp", "vae", "resnet", "resnet_deep"]
DESCRIPTIONS = {
    "cnn": "CNN conv8-pool-conv16-pool-fc128-fc10, Adam",
    "mlp": "MLP 784-256-128-10 relu, SGD 0.1",
    "vae": "VAE (models/vae.ini), Adam",
    "resnet": "residual CNN with batch norm, Adam",
    "resnet_deep": "residual CNN with four blocks (swap at a quarter fits), Adam",
}
NNTRAINER_MODELS = {"cnn", "mlp", "resnet"}  # NNTrainer has no reparametrize/VAE loss
# PyTorch thread settings tried; the fastest is compared (its fastest here: README).
TORCH_SETTINGS = [
    ("2 threads, OPENBLAS_NUM_THREADS=1", 2, {"OPENBLAS_NUM_THREADS": "1"}),
    ("1 thread, OPENBLAS_NUM_THREADS=1", 1, {"OPENBLAS_NUM_THREADS": "1"}),
]


def run_child(command, env_extra=None, cwd=None):
    """Runs `command` under GNU time; returns (stdout, wall seconds, peak RSS in KiB)."""
    env = dict(os.environ, **(env_extra or {}))
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as peak:
        code = subprocess.run([GNU_TIME, "-f", "%M", "-o", peak.name] + command, stdout=out,
                              stderr=err, env=env, cwd=cwd).returncode
        wall = time.perf_counter() - start
        if code != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed ({code}):\n{err.read().decode()[-3000:]}")
        out.seek(0)
        return out.read().decode(), wall, int(peak.read().split()[-1])


DATA = "/usr/share/datasets/fashion-mnist"
NNTRAINER_DATA = "/tmp/nntrainer-data"
NNTRAINER_SAMPLE_BYTES = (784 + 10) * 4  # float32 pixels, then the one-hot label


def write_limited_data(workdir, limit):
    """The first `limit` training and min(limit, 10000) test samples: uncompressed IDX files
    for edgetrain and, when NNTrainer's data exists, its raw files. Returns the paths."""
    counts = {"train": limit, "t10k": min(limit, 10000)}
    paths = {}
    for split, count in counts.items():
        for kind, header, sample in (("images", 16, 784), ("labels", 8, 1)):
            with gzip.open(os.path.join(DATA, f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz")) as f:
                head = bytearray(f.read(header))
                total = int.from_bytes(head[4:8], "big")
                if count > total:
                    sys.exit(f"--limit {limit}: the {split} set has only {total} samples")
                head[4:8] = count.to_bytes(4, "big")
                body = f.read(count * sample)
            path = os.path.join(workdir, f"{split}-{kind}.idx")
            with open(path, "wb") as out:
                out.write(bytes(head) + body)
            paths[(split, kind)] = path
    for split, name in (("train", "train.dat"), ("t10k", "test.dat")):
        source = os.path.join(NNTRAINER_DATA, name)
        if os.path.exists(source):
            with open(source, "rb") as f:
                data = f.read(counts[split] * NNTRAINER_SAMPLE_BYTES)
            path = os.path.join(workdir, "nntrainer-" + name)
            with open(path, "wb") as out:
                out.write(data)
            paths[(split, "nntrainer")] = path
    return paths


def model_file(model):
    if model == "vae":
        return os.path.join(ROOT, "models", "vae.ini")
    return os.path.join(HERE, "models", model + ".ini")


def edgetrain_run(model, args, workdir, extra=()):
    json_path = os.path.join(workdir, f"edgetrain-{model}.json")
    command = [CLI, "train", model_file(model), "--epochs", str(args.epochs), "--batch-size",
               str(args.batch), "--no-progress", "--json", json_path,
               "--set", "save_path=" + os.path.join(workdir, model + ".bin")]
    if model == "vae":
        command += ["--set", "train_set.validation_split=0"]
    if args.limited:
        for section, split in (("train_set", "train"), ("test_set", "t10k")):
            command += ["--set", f"{section}.images={args.limited[(split, 'images')]}"]
            if model != "vae":  # the VAE's label is its input
                command += ["--set", f"{section}.labels={args.limited[(split, 'labels')]}"]
    if args.stream:
        command.append("--stream")
    command += list(extra)
    _, wall, rss = run_child(command)
    with open(json_path) as f:
        figures = json.load(f)
    return {
        "samples_per_s": figures.get("samples_per_second", 0.0),
        "epoch_s": figures.get("seconds_per_epoch", 0.0),
        "peak_kib": rss,
        "baseline_kib": figures.get("baseline_rss_kib"),
        "loss": figures.get("loss"),
        "test_loss": figures.get("test_loss"),
        "test_accuracy": figures.get("test_accuracy"),
        "planned": figures.get("planned_peak_bytes"),
        "lower_bound": figures.get("lower_bound_bytes"),
        "naive": figures.get("naive_bytes"),
        "wall": wall,
    }


def pytorch_run(model, args, threads, env):
    command = [sys.executable, os.path.join(HERE, "torch_models.py"), "--model", model,
               "--epochs", str(args.epochs), "--threads", str(threads), "--batch", str(args.batch)]
    if args.limit:
        command += ["--limit", str(args.limit), "--test-limit", str(min(args.limit, 10000))]
    out, wall, rss = run_child(command, env)
    figures = json.loads(out.strip().splitlines()[-1])
    epochs = figures["epochs"]
    return {
        "samples_per_s": statistics.mean(e["samples_per_second"] for e in epochs),
        "epoch_s": statistics.mean(e["seconds"] for e in epochs),
        "peak_kib": rss,
        "loss": epochs[-1]["loss"],
        "test_loss": figures["test_loss"],
        "test_accuracy": figures.get("test_accuracy"),
        "wall": wall,
    }


def pytorch_baseline(model, threads, env):
    command = [sys.executable, os.path.join(HERE, "torch_models.py"), "--model", model,
               "--threads", str(threads), "--no-train"]
    out = run_child(command, env)[0]
    return json.loads(out.strip().splitlines()[-1])["peak_rss_kib"]


def nntrainer_env(peer):
    return {"LD_LIBRARY_PATH": os.path.join(peer, "lib"), "OMP_NUM_THREADS": "2",
            "OPENBLAS_NUM_THREADS": "2"}


def nntrainer_ini(model, args, workdir):
    """The NNTrainer model file with this run's epochs and batch size."""
    with open(os.path.join(HERE, "nntrainer", model + ".ini")) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        key = line.split("=")[0].strip().lower()
        if key == "epochs":
            line = f"Epochs = {args.epochs}"
        elif key == "batch_size":
            line = f"Batch_Size = {args.batch}"
        elif key == "path" and args.limited:
            name = os.path.basename(line.split("=", 1)[1].strip())
            line = f"path = {args.limited[('train' if name == 'train.dat' else 't10k', 'nntrainer')]}"
        out.append(line)
    path = os.path.join(workdir, f"nntrainer-{model}.ini")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def nntrainer_run(model, args, workdir):
    binary = os.path.join(args.nntrainer, "bin", "train_ini")
    # In the work folder: NNTrainer writes a logs/ folder where it runs.
    out, wall, rss = run_child([binary, nntrainer_ini(model, args, workdir)],
                               nntrainer_env(args.nntrainer), workdir)
    figures = json.loads(out.strip().splitlines()[-1])
    return {
        "samples_per_s": figures["train_samples_per_s"],
        "epoch_s": figures["sec_per_epoch_median"],
        "peak_kib": rss,
        "loss": figures["final_train_loss"],
        "test_loss": figures["test_loss"],
        "test_accuracy": figures["test_accuracy"],
        "wall": wall,
    }


def nntrainer_baseline(model, args, workdir):
    binary = os.path.join(args.nntrainer, "bin", "train_ini")
    out = run_child([binary, nntrainer_ini(model, args, workdir), "--no-train"],
                    nntrainer_env(args.nntrainer), workdir)[0]
    return round(json.loads(out.strip().splitlines()[-1])["peak_rss_mib"] * 1024)


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f} MiB"


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def best(runs):
    """The least disturbed round: the fastest; memory: the largest peak seen."""
    fastest = min(runs, key=lambda r: r["epoch_s"])
    return dict(fastest, peak_kib=max(r["peak_kib"] for r in runs))


def swap_budget(model, batch, planned):
    """A quarter of the planned arena, or the smallest budget swap reaches when a quarter is
    below it (the edgetrain summary names it)."""
    quarter = planned // 4
    check = subprocess.run([CLI, "summary", model_file(model), "--set", f"batch_size={batch}",
                            "--memory-budget", str(quarter), "--swap"],
                           capture_output=True, text=True)
    if check.returncode == 0:
        return quarter
    match = re.search(r"set memory_budget to at least (\d+) bytes", check.stderr)
    if not match:
        sys.exit(f"edgetrain summary --memory-budget {quarter} --swap failed:\n{check.stderr}")
    smallest = int(match.group(1))
    print(f"  {model}: a quarter of the planned arena ({quarter / 2**20:.2f} MiB) is below the "
          f"smallest arena swap reaches, {smallest / 2**20:.2f} MiB "
          f"({smallest / planned:.2f} of the plan): using that")
    return smallest


def report(model, args, results, swap):
    data = f"first {args.limit} images" if args.limit else "all 60,000 images"
    print(f"\n## {model}: {DESCRIPTIONS[model]}; batch {args.batch}, {args.epochs} epoch(s) of {data}, "
          f"best of {args.rounds} round(s)")
    header = (f"{'framework (setting)':46} {'samples/s':>10} {'s/epoch':>8} {'peak RSS':>10} "
              f"{'baseline':>10} {'train-only':>11} {'loss':>8} {'test loss':>9} {'test acc':>8}")
    print(header)
    rows = {}
    for name, runs in results.items():
        row = best(runs)
        base = row.get("baseline_kib")
        row["train_only_kib"] = None if base is None else row["peak_kib"] - base
        rows[name] = row
        print(f"{name:46} {row['samples_per_s']:>10.0f} {row['epoch_s']:>8.2f} "
              f"{mib(row['peak_kib']):>10} {mib(base):>10} {mib(row['train_only_kib']):>11} "
              f"{fmt(row['loss'], '.4f'):>8} {fmt(row['test_loss'], '.4f'):>9} "
              f"{fmt(row['test_accuracy'], '.4f'):>8}")
    ours = rows["edgetrain"]
    torch_names = [n for n in rows if n.startswith("pytorch")]
    peers = []
    if torch_names:
        peers.append(min((n for n in torch_names), key=lambda n: rows[n]["epoch_s"]))
    peers += [n for n in rows if n.startswith("nntrainer")]
    for peer in peers:
        theirs = rows[peer]
        parts = [f"peak RSS {ours['peak_kib'] / theirs['peak_kib']:.3f}x"]
        if ours.get("baseline_kib") and theirs.get("baseline_kib"):
            parts.append(f"baseline {ours['baseline_kib'] / theirs['baseline_kib']:.2f}x")
        if ours.get("train_only_kib") is not None and theirs.get("train_only_kib"):
            parts.append(f"training-only {ours['train_only_kib'] / theirs['train_only_kib']:.3f}x")
        parts.append(f"samples/s {ours['samples_per_s'] / theirs['samples_per_s']:.2f}x")
        print(f"edgetrain / {peer}: " + ", ".join(parts))
    if ours.get("planned"):
        line = f"edgetrain planned arena {ours['planned'] / 2**20:.2f} MiB"
        if ours.get("naive"):
            line += f", naive sum {ours['naive'] / 2**20:.2f} MiB ({ours['planned'] / ours['naive']:.2f}x)"
        if ours.get("lower_bound"):
            line += (f", lower bound {ours['lower_bound'] / 2**20:.2f} MiB "
                     f"(planned {ours['planned'] / ours['lower_bound']:.3f}x)")
        print(line)
    if swap:
        runs = best(swap["runs"])
        print(f"edgetrain with memory_budget {swap['budget'] / 2**20:.2f} MiB "
              f"({swap['budget'] / swap['planned']:.2f} of the planned arena) and swap: planned arena {fmt(runs.get('planned'), ',')} bytes, "
              f"peak RSS {mib(runs['peak_kib'])}, time per epoch "
              f"{runs['epoch_s'] / ours['epoch_s']:.2f}x the unconstrained run, "
              f"{'same' if runs['loss'] == ours['loss'] else 'DIFFERENT'} final loss")


def compare_model(model, args, workdir, have_torch, have_peer):
    """Trains `model` at args.batch in every framework for args.rounds rounds, then reports."""
    configs = {"edgetrain": lambda: edgetrain_run(model, args, workdir)}
    baselines = {}
    if have_torch:
        for label, threads, env in TORCH_SETTINGS:
            name = f"pytorch ({label})"
            configs[name] = (lambda t=threads, e=env: pytorch_run(model, args, t, e))
            baselines[name] = pytorch_baseline(model, threads, env)
    if have_peer and model in NNTRAINER_MODELS:
        name = "nntrainer (OMP 2, OpenBLAS 2 threads)"
        configs[name] = lambda: nntrainer_run(model, args, workdir)
        baselines[name] = nntrainer_baseline(model, args, workdir)
    results = {name: [] for name in configs}
    swap = None
    for round_index in range(args.rounds):
        for name, run in configs.items():
            result = run()
            if name in baselines:
                result["baseline_kib"] = baselines[name]
            results[name].append(result)
            print(f"  round {round_index + 1} {model} {name}: "
                  f"{result['samples_per_s']:.0f} samples/s, {mib(result['peak_kib'])}",
                  flush=True)
        if args.swap and results["edgetrain"][-1].get("planned"):
            planned = results["edgetrain"][0]["planned"]
            budget = swap["budget"] if swap else swap_budget(model, args.batch, planned)
            run = edgetrain_run(model, args, workdir,
                                ["--swap", "--memory-budget", str(budget)])
            swap = swap or {"budget": budget, "planned": planned, "runs": []}
            swap["runs"].append(run)
            print(f"  round {round_index + 1} {model} edgetrain swap: "
                  f"{run['samples_per_s']:.0f} samples/s, {mib(run['peak_kib'])}", flush=True)
    report(model, args, results, swap)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batches", default="64",
                        help="batch sizes, each a run of every model, e.g. 1,8,64")
    parser.add_argument("--limit", type=int, default=0,
                        help="train on the first N images only (test on min(N, 10000))")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--nntrainer", default=os.environ.get("NNTRAINER_PEER", DEFAULT_PEER),
                        help="folder of the prebuilt NNTrainer peer (skipped when missing)")
    parser.add_argument("--no-pytorch", action="store_true")
    parser.add_argument("--no-stream", dest="stream", action="store_false",
                        help="edgetrain holds the datasets in memory instead of streaming them")
    parser.add_argument("--swap", action="store_true",
                        help="also train edgetrain with a quarter of its planned arena and swap")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    batches = [int(b) for b in args.batches.split(",") if b]
    for m in models:
        if m not in MODELS:
            sys.exit(f"unknown model '{m}': choose from {', '.join(MODELS)}")
    if not os.access(CLI, os.X_OK):
        sys.exit(f"{CLI} is missing: build first (bash scripts/setup.sh)")
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"{GNU_TIME} is missing: apt-get install time (bash scripts/setup.sh does)")
    have_torch = not args.no_pytorch and subprocess.run(
        [sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    if not have_torch and not args.no_pytorch:
        print("PyTorch is not installed (apt-get install python3-torch): skipped")
    have_peer = os.access(os.path.join(args.nntrainer, "bin", "train_ini"), os.X_OK)
    if have_peer and not os.path.exists("/tmp/nntrainer-data/train.dat"):
        subprocess.run([os.path.join(args.nntrainer, "prepare-data")], check=True)
    if not have_peer:
        print(f"NNTrainer peer not found at {args.nntrainer}: skipped")

    print(f"edgetrain: {CLI}" + (" (datasets streamed from disk)" if args.stream else ""))
    with tempfile.TemporaryDirectory() as workdir:
        args.limited = write_limited_data(workdir, args.limit) if args.limit else None
        for batch in batches:
            args.batch = batch
            for model in models:
                compare_model(model, args, workdir, have_torch, have_peer)

if __name__ == "__main__":
    main()
