# Multi-stage build: cgo for SQLite in the first stage, a small non-root
# runtime in the second.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/carevoice ./cmd/carevoice

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data carevoice \
    && mkdir -p /data && chown carevoice /data
COPY --from=build /out/carevoice /usr/local/bin/carevoice
USER carevoice
ENV CAREVOICE_DB=/data/carevoice.db CAREVOICE_ADDR=:8080
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["carevoice"]
CMD ["serve"]
