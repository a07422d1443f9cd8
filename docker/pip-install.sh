#!/bin/sh
# `pip install` for image builds. pip trusts its own certificate store, or the CA bundle the
# base image names in PIP_CERT (docker/build-local-base.sh, and build.sh's PIP_CA_BUNDLE, set
# it for a TLS-intercepting proxy).
set -eu
exec pip install "$@"
