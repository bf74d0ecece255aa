/**
 * Which upstream links belong to a domain: the domain's own link (`charging`) or one of its
 * several (`flex:flex-tso`, `flex:flex-dso-north`). The overview uses this on the server and
 * in the browser, so the domain tiles and the links table always agree.
 */
export const isDomainLink = (linkId: string, domainId: string) => linkId === domainId || linkId.startsWith(`${domainId}:`);
