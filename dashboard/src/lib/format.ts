// Display helpers: money in minor units, timestamps, percentages.

const digitsCache = new Map<string, number>();

/** How many minor-unit digits a currency has (2 for USD, 0 for JPY). */
export function minorDigits(currency: string): number {
  const code = currency.toUpperCase();
  let digits = digitsCache.get(code);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(code, digits);
  }
  return digits;
}

/** 1999 USD → "19.99 USD"; 500 JPY → "500 JPY". Accepts decimal strings (large volumes). */
export function money(amount: number | string, currency: string): string {
  const digits = minorDigits(currency);
  const minor = typeof amount === 'string' ? Number(amount) : amount;
  if (!Number.isFinite(minor)) return `${amount} ${currency}`;
  const major = minor / 10 ** digits;
  const text = major.toLocaleString('en', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${text} ${currency.toUpperCase()}`;
}

/** "12.50" in USD → 1250; null when it is not a positive amount with at most the currency's digits. */
export function parseMoney(input: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const text = input.trim();
  const pattern = digits > 0 ? new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`) : /^\d+$/;
  if (!pattern.test(text)) return null;
  const [whole = '0', fraction = ''] = text.split('.');
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}

export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleString('en', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function percent(rate: number | undefined): string {
  if (rate === undefined || !Number.isFinite(rate)) return '—';
  return `${(rate * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/** SUCCEEDED → "Succeeded"; PARTIALLY_REFUNDED → "Partially refunded". */
export function label(value: string): string {
  const words = value.toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
