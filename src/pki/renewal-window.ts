/**
 * The one renewal rule, for certificates and the CRL alike (docs/store.md): renew within
 * 30 days of the end, or half of cert_days when that is shorter, and only when a new one would
 * really end later. Used by generate's plan, the CRL's re-signing, the hook's no-op decision
 * and the hook's stamp (renewalStart), so they cannot disagree about when work is due.
 */
import { DAY_MS } from "../units.js";

export const RENEW_WITHIN_DAYS = 30;

/**
 * How long before its end a certificate (or the CRL) enters the renewal window: `windowDays`
 * (renew_days for a client, RENEW_WITHIN_DAYS otherwise), or half of cert_days when shorter.
 */
export function renewalWindowMs(certDays: number, windowDays = RENEW_WITHIN_DAYS): number {
  return Math.min(windowDays, certDays / 2) * DAY_MS;
}

/**
 * Whether something ending at `notAfter` should be renewed (re-signed) now: within the window,
 * and a new one would end more than a day later. Without the second rule a certificate cut to
 * its CA's end, or a short cert_days, would be re-issued on every run, and every build would
 * want the CA passphrase.
 */
export function renewalDue(notAfter: Date, now: Date, certDays: number, caNotAfter: Date, windowDays = RENEW_WITHIN_DAYS): boolean {
  if (notAfter.getTime() - now.getTime() >= renewalWindowMs(certDays, windowDays)) return false;
  const renewed = Math.min(now.getTime() + certDays * DAY_MS, caNotAfter.getTime());
  return renewed > notAfter.getTime() + DAY_MS;
}

/**
 * The first instant (Unix ms) at which renewalDue holds for something ending at `notAfter`;
 * undefined when a new one never would end later (the CA ends first): it is never renewed.
 */
export function renewalStart(notAfter: number, certDays: number, caNotAfter: number, windowDays = RENEW_WITHIN_DAYS): number | undefined {
  if (caNotAfter <= notAfter + DAY_MS) return undefined;
  return Math.max(notAfter - renewalWindowMs(certDays, windowDays), notAfter + DAY_MS - certDays * DAY_MS);
}
