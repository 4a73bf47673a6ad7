declare module 'parse-prometheus-text-format' {
  /** Parses Prometheus text into prom2json-shaped families (see ../prometheus.ts for the shape). */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
