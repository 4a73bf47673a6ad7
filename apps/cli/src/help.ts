const CONNECTION = `Connection:
  --base-url URL     the API (env FLUXQ_BASE_URL, default http://127.0.0.1:8080)
  --api-key KEY      sent as a bearer token (env FLUXQ_API_KEY)
  -h, --help         this help
`;

export const MAIN_HELP = `fluxq: the fluxq API from the command line

Usage: fluxq <command> [options]

Commands:
  edit <files|dirs|globs…> --prompt "…" --out DIR   edit many images in one batch (resumable)
  generate "<prompt>" --out DIR                      generate images with one job
  jobs get|list|cancel [id]                          read or cancel jobs
  batches get|list|results|cancel [id]               read or cancel batches (results as JSONL)
  webhooks listen --port P [--secret whsec_…]        receive and verify webhooks

Run fluxq <command> --help for its options.

${CONNECTION}
Exit codes: 0 success, 1 a request or item failed, 2 usage error, 130 interrupted.
`;

export const EDIT_HELP = `Usage: fluxq edit <files | dirs | globs…> --prompt "…" --out DIR [options]

Uploads every image (a directory gives its png/jpg/jpeg/webp files; a glob may use * and ?
in its last part), submits ONE batch of edits (custom_id = the file's relative path), and
saves each output in DIR as <name>.<format> (<name>-<i>.<format> when -n > 1) as soon as it
is done. Progress goes to stderr: a bar on a terminal (done, failed, rate, ETA, cost), plain
lines otherwise. DIR/.fluxq-state.json records the uploads, the batch and
the downloads: after Ctrl-C (the batch keeps running on the server) run again with --resume.

Options:
  -p, --prompt TEXT       the edit instruction (required unless --resume)
  -m, --model ID          e.g. flux.2-dev-turbo
  -s, --size WxH          output size, e.g. 1024x1024
  -f, --format FMT        png (default), jpeg, webp, gif or avif
  -n, --n N               images per input, 1..10 (default 1)
  -o, --out DIR           output directory (required)
      --resume            continue from DIR/.fluxq-state.json: no re-upload, no new batch
  -c, --concurrency N     parallel uploads and downloads (default 4)
      --poll-interval MS  between batch reads (default 1000)
      --json              print a JSON summary on stdout instead of the text one, and progress
                          on stderr as JSON lines ({"type":"progress",…})

${CONNECTION}
Exit codes: 0 every item succeeded, 1 some failed, 2 usage error, 130 interrupted.
`;

export const GENERATE_HELP = `Usage: fluxq generate "<prompt>" --out DIR [options]

Creates one job, waits for it, and saves its images in DIR as <job id>.<format>
(<job id>-<i>.<format> when -n > 1). Prints the saved paths.

Options:
  -n, --n N          images, 1..10 (default 1)
  -m, --model ID     e.g. flux.2-dev-turbo
  -s, --size WxH     e.g. 1024x1024
  -f, --format FMT   png (default), jpeg, webp, gif or avif
  -o, --out DIR      output directory (required)
      --timeout S    give up waiting after S seconds (default 600; the job runs on)
      --json         print the job as JSON (with the saved files)

${CONNECTION}`;

export const JOBS_HELP = `Usage: fluxq jobs get <id> | list [--status S[,S]] [--batch ID] [--limit N] [--after ID] | cancel <id>

Prints the API's JSON answer on stdout.

${CONNECTION}`;

export const BATCHES_HELP = `Usage: fluxq batches get <id> | list [--limit N] [--after ID] | results <id> | cancel <id>

get, list and cancel print the API's JSON answer; results prints one JSON line per finished request.

${CONNECTION}`;

export const WEBHOOKS_HELP = `Usage: fluxq webhooks listen --port P [--host H] [--secret whsec_…]

Starts an HTTP server that verifies each POST's Standard Webhooks signature and prints the
event as one JSON line on stdout (answering 204); a bad signature gets 400 and a line on
stderr. Without --secret the tenant's secret is read with GET /v1/webhooks/secret.
Stops on Ctrl-C.

Options:
  --port P          port to listen on (required; 0 picks a free one)
  --host H          interface (default 127.0.0.1)
  --secret SECRET   the whsec_… signing secret

${CONNECTION}`;
