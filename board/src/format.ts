// Numbers and times in the browser's own locale and time zone.
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium', timeZone });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium', timeZone });
const units = (unit: string) =>
  new Intl.NumberFormat(undefined, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 });
const seconds = units('second');
const minutes = units('minute');
const hours = units('hour');
const days = units('day');

export { timeZone };

export const formatCount = (n: number) => integer.format(n);

/** Today's times as a time only; older ones with their date. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString() ? time.format(at) : dateTime.format(at);
}

export function formatDuration(totalSeconds: number): string {
  if (totalSeconds < 90) return seconds.format(totalSeconds);
  if (totalSeconds < 90 * 60) return minutes.format(totalSeconds / 60);
  if (totalSeconds < 48 * 3600) return hours.format(totalSeconds / 3600);
  return days.format(totalSeconds / 86400);
}

export function formatMoney(amount: string, currencyCode: string): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: currencyCode }).format(
    Number(amount),
  );
}
