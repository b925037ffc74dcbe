"""Trains the VAE of models/vae.ini for 2 epochs on Fashion-MNIST with edgetrain's CLI and
with PyTorch (vae_pytorch.py, two thread settings), alternating runs, and prints losses,
training time per epoch and peak RSS, with edgetrain's figures as ratios of PyTorch's.

PyTorch runs with torch.set_num_threads(2) and OPENBLAS_NUM_THREADS=1, and with one
thread; the faster is compared. Every run is a child process of its own; its peak RSS is the ru_maxrss that wait4()
reports for it. Both train on all 60,000 images (validation_split = 0 for edgetrain) and
then compute the test loss. Usage: bench/vae/run.sh [--rounds N] [--epochs N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CLI = os.path.join(ROOT, "build", "bin", "edgetrain")
MODEL = os.path.join(ROOT, "models", "vae.ini")


def run_child(command, env_extra):
    """Runs `command`; returns (stdout, wall seconds, peak RSS in MiB)."""
    env = dict(os.environ, **env_extra)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({child.returncode}): "
                     f"{child.stderr.read().decode()}")
        out.seek(0)
        return out.read().decode(), wall, usage.ru_maxrss / 1024.0


def edgetrain_run(epochs, workdir):
    json_path = os.path.join(workdir, "edgetrain.json")
    metrics = os.path.join(workdir, "metrics.csv")
    command = [CLI, "train", MODEL, "--epochs", str(epochs), "--no-progress",
               "--json", json_path, "--set", "train_set.validation_split=0",
               "--set", "save_path=" + os.path.join(workdir, "vae.bin"),
               "--set", "metrics_path=" + metrics]
    _, wall, rss = run_child(command, {})
    with open(json_path) as f:
        figures = json.load(f)
    with open(metrics) as f:
        rows = [line.split(",") for line in f.read().split("\n")[1:] if line]
    return {"losses": [float(row[1]) for row in rows], "seconds": [float(row[6]) for row in rows],
            "test_loss": figures["test_loss"], "wall": wall, "rss": rss}


def pytorch_run(epochs, threads, env_extra):
    command = [sys.executable, os.path.join(HERE, "vae_pytorch.py"), "--epochs", str(epochs),
               "--threads", str(threads)]
    out, wall, rss = run_child(command, env_extra)
    figures = json.loads(out)
    return {"losses": [e["loss"] for e in figures["epochs"]],
            "seconds": [e["seconds"] for e in figures["epochs"]],
            "test_loss": figures["test_loss"], "wall": wall, "rss": rss}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    # Debian's torch calls OpenBLAS, whose own threads inside torch's 2 intra-op threads
    # oversubscribe 2 cores; on a loaded machine that made steps 10x slower (README), so
    # this variant, minutes per epoch, is opt-in.
    parser.add_argument("--with-openblas-threads", action="store_true",
                        help="also run PyTorch with 2 threads and OpenBLAS's default threads")
    args = parser.parse_args()
    if not os.access(CLI, os.X_OK):
        sys.exit(f"{CLI} is missing: build first (cmake -S . -B build -G Ninja && ninja -C build)")
    configs = {
        "edgetrain": lambda workdir: edgetrain_run(args.epochs, workdir),
        "pytorch (2 threads, OPENBLAS_NUM_THREADS=1)":
            lambda _: pytorch_run(args.epochs, 2, {"OPENBLAS_NUM_THREADS": "1"}),
        "pytorch (1 thread, OPENBLAS_NUM_THREADS=1)":
            lambda _: pytorch_run(args.epochs, 1, {"OPENBLAS_NUM_THREADS": "1"}),
    }
    if args.with_openblas_threads:
        configs["pytorch (2 threads)"] = lambda _: pytorch_run(args.epochs, 2, {})
    results = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as workdir:
        for round_index in range(args.rounds):
            for name, run in configs.items():  # alternating: one of each per round
                result = run(workdir)
                results[name].append(result)
                print(f"round {round_index + 1} {name}: losses "
                      f"{', '.join(f'{x:.2f}' for x in result['losses'])}, test {result['test_loss']:.2f}, "
                      f"{statistics.mean(result['seconds']):.2f} s/epoch, {result['rss']:.0f} MiB",
                      flush=True)

    def summary(name):
        runs = results[name]
        return {"name": name,
                # the best round: the least disturbed by whatever else the machine did
                "epoch_s": min(statistics.mean(r["seconds"]) for r in runs),
                "rss": max(r["rss"] for r in runs),
                "losses": runs[-1]["losses"], "test": runs[-1]["test_loss"]}

    ours = summary("edgetrain")
    torch_best = min((summary(n) for n in configs if n != "edgetrain"), key=lambda s: s["epoch_s"])
    print()
    print(f"VAE (models/vae.ini), Fashion-MNIST 60,000 images, batch 64, {args.epochs} epochs, "
          f"best of {args.rounds} rounds")
    print(f"{'':44} {'loss per epoch':>22} {'test loss':>10} {'s/epoch':>8} {'peak RSS':>10}")
    for s in [ours] + [summary(n) for n in configs if n != "edgetrain"]:
        losses = " ".join(f"{x:.2f}" for x in s["losses"])
        print(f"{s['name']:44} {losses:>22} {s['test']:>10.2f} {s['epoch_s']:>8.2f} "
              f"{s['rss']:>7.0f} MiB")
    print(f"edgetrain / fastest PyTorch ({torch_best['name']}): time per epoch "
          f"{ours['epoch_s'] / torch_best['epoch_s']:.2f}x, peak RSS "
          f"{ours['rss'] / torch_best['rss']:.2f}x")


if __name__ == "__main__":
    main()
