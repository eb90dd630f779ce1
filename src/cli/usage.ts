import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

export const USAGE = `perpetuo ${VERSION} — a self-hosted LLM gateway

Usage: perpetuo [command] [options]

Commands:
  serve             start the gateway, API and dashboard (the default)
  migrate           apply pending database migrations and exit
  rotate-secret     re-encrypt stored provider keys with the current PERPETUO_SECRET
                    (the old one in PERPETUO_SECRET_PREVIOUS) and exit
  create-user --email EMAIL [--name NAME] [--workspace WORKSPACE]
                    create a user (and a workspace they own) and print the user's id;
                    the password is read from PERPETUO_PASSWORD or the first line of stdin
  healthcheck       exit 0 when the server on 127.0.0.1:$PORT answers /healthz, else 1
  --version         print the version
  --help            print this help

Configuration comes from the environment (PORT, HOST, DATABASE_URL, PERPETUO_SECRET,
PERPETUO_SECRET_PREVIOUS, PUBLIC_URL, DATA_DIR, LOG_LEVEL, NODE_ENV); see README.md.
Wrong arguments exit with status 2.`;
