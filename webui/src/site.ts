// The site's settings (`site.info`) for components deep in the tree, and what they imply.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { SiteInfo } from './types';

/** Provided by the app once `site.info` has answered; null until then. */
export const SiteContext = createContext<SiteInfo | null>(null);

export function useSite(): SiteInfo | null {
  return useContext(SiteContext);
}

/** Invites earn something: only then are invite links and texts shown at all. */
export function invitesOn(site: SiteInfo | null): boolean {
  if (!site) return false;
  // A daemon from before these fields existed always had invites.
  if (site.referral_signup_reward === undefined && site.referral_paid_percent === undefined) return true;
  return (site.referral_signup_reward ?? 0) > 0 || (site.referral_paid_percent ?? 0) > 0;
}

/** Whether the account dialog offers personal API keys. */
export function apiOn(site: SiteInfo | null): boolean {
  return site?.api_enabled === true;
}
