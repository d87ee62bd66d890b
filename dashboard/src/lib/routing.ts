// Routing rules in words, for the rule list.

import type { RoutingAction, RoutingConditions } from '$lib/types';

export function describeConditions(conditions: RoutingConditions | undefined): string[] {
  const found: string[] = [];
  if (!conditions) return found;
  if (conditions.currency) found.push(`currency is ${conditions.currency}`);
  if (conditions.amountGte !== undefined && conditions.amountGte !== null)
    found.push(`amount ≥ ${conditions.amountGte}`);
  if (conditions.amountLt !== undefined && conditions.amountLt !== null)
    found.push(`amount < ${conditions.amountLt}`);
  if (conditions.paymentMethodType) found.push(`payment method is ${conditions.paymentMethodType}`);
  for (const [key, value] of Object.entries(conditions.metadata ?? {}))
    found.push(`metadata ${key} = ${value}`);
  return found;
}

export type ActionKind = 'single' | 'priority' | 'volumeSplit' | 'successRate';

export const ACTION_KINDS: { kind: ActionKind; label: string; hint: string }[] = [
  { kind: 'single', label: 'Single processor', hint: 'Always this processor.' },
  {
    kind: 'priority',
    label: 'Priority list',
    hint: 'The first processor, falling over to the next ones in order.',
  },
  { kind: 'volumeSplit', label: 'Volume split', hint: 'Share payments by weight.' },
  {
    kind: 'successRate',
    label: 'Success rate',
    hint: 'The processor with the best recent success rate first.',
  },
];

export function describeAction(action: RoutingAction | undefined): string {
  if (action?.single) return `Always ${action.single.processor}`;
  if (action?.priority) return `In order: ${action.priority.processors.join(' → ')}`;
  if (action?.volumeSplit) {
    const splits = action.volumeSplit.splits;
    const total = splits.reduce((sum, split) => sum + split.weight, 0) || 1;
    return `Split: ${splits
      .map((split) => `${split.processor} ${Math.round((split.weight / total) * 100)}%`)
      .join(', ')}`;
  }
  if (action?.successRate) {
    const rate = action.successRate;
    const extras = [
      rate.explorationPercent !== undefined ? `${rate.explorationPercent}% exploration` : '',
      rate.minSamples !== undefined ? `min ${rate.minSamples} samples` : '',
      rate.windowSize !== undefined ? `window ${rate.windowSize}` : '',
    ].filter(Boolean);
    return `Best success rate among ${rate.processors.join(', ')}${
      extras.length ? ` (${extras.join(', ')})` : ''
    }`;
  }
  return 'No action';
}
