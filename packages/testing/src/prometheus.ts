/// <reference path="./types/parse-prometheus-text-format.d.ts" />
// parse-prometheus-text-format ships no types; this is the shape it documents (prom2json's).
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  /** Histograms: upper bound → cumulative count. */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: PromSample[];
}

/**
 * Prometheus text parsed by a real parser (a port of the Python client's), so a test
 * checks what a scraper would read, not what a regex thinks the text says.
 */
export class PromScrape {
  readonly families: ReadonlyMap<string, PromFamily>;

  constructor(text: string) {
    const parsed = (parsePrometheusTextFormat as (text: string) => PromFamily[])(text);
    this.families = new Map(parsed.map((family) => [family.name, family]));
  }

  /** The samples of `name` whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): PromSample[] {
    return (this.families.get(name)?.metrics ?? []).filter((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
    );
  }

  /** Sum of the values (counters, gauges) or of the counts (histograms) of the matching samples. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((total, s) => total + Number(s.count ?? s.value ?? 0), 0);
  }

  /** Every label value of every sample, with its family and label name. */
  *labelValues(): Generator<{ family: string; label: string; value: string }> {
    for (const family of this.families.values()) {
      for (const sample of family.metrics) {
        for (const [label, value] of Object.entries(sample.labels ?? {}))
          yield { family: family.name, label, value };
      }
    }
  }
}

/** Fetches `url` and parses it; throws unless it answers 200. */
export async function scrapePrometheus(
  url: string,
  headers: Record<string, string> = {},
): Promise<PromScrape> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return new PromScrape(text);
}
