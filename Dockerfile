# wsgibench's image: the binary, the Python servers of suites/servers.toml in the pinned
# venv, and the apps and suites. One image for every pod: controller, agents, each
# server case and the results viewer (deploy/README.md).
#
#   docker build -t registry.example/wsgibench:0.1.0 .
#
# The bases are arguments, so a machine without a registry can build on images it made
# itself (e.g. `debootstrap` + `docker import`): --build-arg RUST_IMAGE=... DEBIAN_IMAGE=...
# Both must be Debian 12 (bookworm): the binary links against the runtime's glibc, and
# the venv against its python3.11.
ARG RUST_IMAGE=rust:1-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

# --- the binary ----------------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src
# The whole tree (less .dockerignore): the binary embeds python/ and suites/.
COPY . .
# Two optional inputs, for a machine that has built them already (CI builds the image
# from its host's binary and wheel cache: crates/cli/tests/docker_hosts/dockerfile.rs):
#   prebuilt/wsgibench  a release or debug binary built on Debian 12: no compile here,
#                       and RUST_IMAGE may then be any Debian 12 image;
#   wheels/             every wheel of python/requirements*.txt (`pip wheel`): the venv
#                       is installed from it alone, with no index and no compiler.
RUN if [ -x prebuilt/wsgibench ]; then \
      install -m 0755 prebuilt/wsgibench /wsgibench; \
    else \
      cargo build --release --locked -p wsgibench \
      && install -m 0755 target/release/wsgibench /wsgibench; \
    fi \
 && mkdir -p /wheels && if [ -d wheels ]; then cp wheels/*.whl /wheels/; fi

# --- the venv: built where it will run, at the path it will run from ------------------
# (a venv is not relocatable). Compilers and headers stay in this stage, and are
# installed only when there are no wheels to install from.
FROM ${DEBIAN_IMAGE} AS venv
COPY --from=build /wheels /tmp/wheels
RUN if [ -z "$(ls /tmp/wheels)" ]; then compile="python3-dev build-essential libev-dev"; fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates $compile \
 && rm -rf /var/lib/apt/lists/*
COPY python/requirements.txt python/requirements-nodeps.txt /tmp/requirements/
# As `wsgibench run` makes it (crates/suite/src/pyenv.rs): every pin, then meinheld
# without its stale dependency pins. Unlike a run, a package that fails to build fails
# the image: an image is made once and must hold every case.
RUN pip="/opt/wsgibench/venv/bin/pip install --no-input --no-cache-dir --disable-pip-version-check"; \
    if [ -n "$(ls /tmp/wheels)" ]; then pip="$pip --no-index --find-links /tmp/wheels"; fi \
 && python3 -m venv /opt/wsgibench/venv \
 && $pip -r /tmp/requirements/requirements.txt \
 && $pip --no-deps -r /tmp/requirements/requirements-nodeps.txt

# --- the image ---------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE}
# python3: the servers and the viewer (python3 -m http.server); python3-venv: the venv's
# interpreter is the system one; libev4: bjoern; libpython3.11: uWSGI's binary links
# against it, and against libxml2 when it was built where libxml2-dev was installed
# (a wheel from another machine: the check below names any other such library).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv libev4 libpython3.11 libxml2 \
 && rm -rf /var/lib/apt/lists/*
# Not root: the manifests run as 10001 (runAsNonRoot) and give it the results volume
# (fsGroup).
# /results is theirs too: a Docker volume mounted there starts with its owner.
RUN groupadd --system --gid 10001 wsgibench \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/wsgibench --create-home wsgibench \
 && install -d -o 10001 -g 10001 /results
COPY --from=venv /opt/wsgibench/venv /opt/wsgibench/venv
COPY python/ /opt/wsgibench/python/
COPY suites/ /opt/wsgibench/suites/
COPY --from=build /wsgibench /usr/local/bin/wsgibench
# Fail the build here, not in a cluster at 3 am: every shared library the venv's
# binaries need is present, every server imports, and the binary runs.
RUN missing="$(find /opt/wsgibench/venv -type f \( -name '*.so' -o -path '*/bin/uwsgi' \) \
        -exec ldd {} + 2>/dev/null | grep 'not found' | sort -u)"; \
    if [ -n "$missing" ]; then echo "missing shared libraries:"; echo "$missing"; exit 1; fi \
 && /opt/wsgibench/venv/bin/python -c 'import bjoern, cheroot, django, fastwsgi, flask, gevent, granian, gunicorn, meinheld, pyruvate, waitress' \
 && /opt/wsgibench/venv/bin/uwsgi --version \
 && wsgibench --version
USER 10001:10001
ENV HOME=/home/wsgibench
# serve-case uses the image's venv as it is (there are no compilers to build another).
ENV WSGIBENCH_VENV=/opt/wsgibench/venv
# wsgibench finds python/ and suites/ in its working directory, as in a checkout.
WORKDIR /opt/wsgibench
# Agents listen on 7701, servers on 8000, the viewer on 8080.
EXPOSE 7701 8000 8080
CMD ["wsgibench", "--help"]
