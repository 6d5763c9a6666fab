import { Role } from '../common/enums.js';

// Who may call what, beside ADMIN, who may call everything. Channel-bound roles are
// further limited to their own channel by the services.
export const READ_ORDERS = [Role.OPS, Role.ANALYST, Role.STOREFRONT];
export const READ_CATALOG = [Role.OPS, Role.ANALYST, Role.STOREFRONT, Role.CONNECTOR];
export const READ_OPERATIONS = [Role.OPS, Role.ANALYST];
export const WRITE_CATALOG = [Role.OPS];
export const ADMIN_ONLY = [Role.ADMIN];
export const INGEST = [Role.OPS, Role.CONNECTOR];
export const PLACE_ORDERS = [Role.OPS, Role.STOREFRONT];
export const RESERVE_STOCK = [Role.OPS, Role.STOREFRONT];
export const RECONCILE_INVENTORY = [Role.OPS];
export const WRITE_STOCK = [Role.OPS];
// STOREFRONT keys only for their own channel's orders (checked by the service).
export const MOVE_ORDERS = [Role.OPS, Role.STOREFRONT];
// The warehouse and carriers: pack, ship, tracking events.
export const SHIP_ORDERS = [Role.OPS];
// Splitting by hand: operators, and a storefront for its own channel's orders (checked by the service).
export const SPLIT_ORDERS = [Role.OPS, Role.STOREFRONT];
