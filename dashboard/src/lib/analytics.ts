// Shaping GET /api/analytics/summary for the charts.

import type { Bar, Series } from '$lib/components/charts/types';
import { label, money, percent } from '$lib/format';
import type { AnalyticsSummary, Volume } from '$lib/types';

export const RANGES = [
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
  { days: 90, label: 'Last 90 days' },
  { days: 365, label: 'Last 365 days' },
] as const;

/** Whole UTC days: from the start of the day `days - 1` days ago to the start of tomorrow. */
export function range(days: number, now = new Date()): { from: string; to: string } {
  const tomorrow = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const day = 24 * 60 * 60 * 1000;
  return {
    from: new Date(tomorrow - days * day).toISOString(),
    to: new Date(tomorrow).toISOString(),
  };
}

export function amountIn(volumes: Volume[] | undefined, currency: string): number {
  return Number(volumes?.find((v) => v.currency === currency)?.amount ?? 0);
}

export function volumes(list: Volume[] | undefined): string {
  const present = (list ?? []).filter((v) => Number(v.amount) !== 0);
  return present.length ? present.map((v) => money(v.amount, v.currency)).join(' · ') : '—';
}

/** The currencies of the range, largest order count first. */
export function currencies(summary: AnalyticsSummary): string[] {
  return [...(summary.byCurrency ?? [])]
    .sort((a, b) => (b.count ?? 0) - (a.count ?? 0))
    .map((c) => c.currency);
}

export function successRateBars(summary: AnalyticsSummary): Bar[] {
  return (summary.byProcessor ?? []).map((p) => ({
    label: p.processor,
    value: p.successRate ?? 0,
    display: percent(p.successRate ?? 0),
    detail: `${p.succeeded ?? 0} of ${p.attempted ?? 0}`,
  }));
}

export function processorVolumeBars(summary: AnalyticsSummary, currency: string): Bar[] {
  return (summary.byProcessor ?? [])
    .map((p) => ({ processor: p.processor, amount: amountIn(p.volume, currency) }))
    .filter((p) => p.amount > 0)
    .map((p) => ({ label: p.processor, value: p.amount, display: money(p.amount, currency) }));
}

export function failureBars(summary: AnalyticsSummary): Bar[] {
  return (summary.failureCodes ?? []).map((f) => ({
    label: f.code,
    value: f.count ?? 0,
    display: String(f.count ?? 0),
  }));
}

export function statusBars(summary: AnalyticsSummary): Bar[] {
  return (summary.byStatus ?? []).map((s) => ({
    label: label(s.status),
    value: s.count ?? 0,
    display: String(s.count ?? 0),
  }));
}

export function dailyLabels(summary: AnalyticsSummary): string[] {
  return (summary.daily ?? []).map((d) => d.date);
}

export function dailyOrders(summary: AnalyticsSummary): Series[] {
  const days = summary.daily ?? [];
  return [
    {
      name: 'Created',
      tone: 'fill-indigo-200',
      swatch: 'bg-indigo-200',
      values: days.map((d) => d.count ?? 0),
    },
    {
      name: 'Paid',
      tone: 'fill-indigo-600',
      swatch: 'bg-indigo-600',
      values: days.map((d) => d.succeeded ?? 0),
    },
  ];
}

export function dailySuccessRate(summary: AnalyticsSummary): Series[] {
  return [
    {
      name: 'Paid ÷ created',
      tone: 'fill-emerald-500',
      swatch: 'bg-emerald-500',
      values: (summary.daily ?? []).map((d) => (d.count ? (d.succeeded ?? 0) / d.count : 0)),
    },
  ];
}

export function dailyVolume(summary: AnalyticsSummary, currency: string): Series[] {
  return [
    {
      name: `Captured (${currency})`,
      tone: 'fill-sky-500',
      swatch: 'bg-sky-500',
      values: (summary.daily ?? []).map((d) => amountIn(d.capturedVolume, currency)),
    },
  ];
}
