#!/bin/sh
# `pip install` for image builds. A build behind a TLS-intercepting proxy passes the proxy's CA
# bundle as the BuildKit secret `ca_bundle` (docker/build.sh: PIP_CA_BUNDLE=FILE); it is
# mounted only for the RUN that uses it and never lands in a layer. Without it pip keeps its
# own certificate store.
set -eu
if [ -s /run/secrets/ca_bundle ]; then
    export PIP_CERT=/run/secrets/ca_bundle
fi
exec pip install "$@"
