/** API input for a service's LVS virtual services and for an LVS cluster's local-address groups. */
import { z } from 'zod';
import { checkPathSchema, ipAddressSchema, keepalivedNameSchema, portSchema } from './grammar.ts';

/** IPVS schedulers keepalived knows. */
export const LVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'] as const;

/** Forwarding methods; `FNAT` exists only in Alibaba's FULLNAT keepalived/kernel fork. */
export const LVS_FORWARDING = ['DR', 'NAT', 'TUN', 'FNAT'] as const;

export const LVS_PROTOCOLS = ['TCP', 'UDP'] as const;

const timing = {
  connectTimeout: z.int().min(1).max(3600).default(3),
  retry: z.int().min(0).max(100).optional(),
  delayBeforeRetry: z.int().min(1).max(3600).optional(),
  /** Defaults to the real server's port. */
  connectPort: portSchema.optional(),
};

/** How keepalived decides a real server is alive. */
export const lvsHealthCheckSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('TCP_CHECK'), ...timing }),
  z.strictObject({ type: z.literal('UDP_CHECK'), ...timing }),
  z.strictObject({
    type: z.literal('HTTP_GET'),
    path: checkPathSchema,
    statusCode: z.int().min(100).max(599).default(200),
    ...timing,
  }),
]);

/** One virtual service of a service node: VIP:port → the node's machines on `realPort`. */
export const lvsVirtualServiceSchema = z
  .strictObject({
    vip: ipAddressSchema,
    port: portSchema,
    protocol: z.enum(LVS_PROTOCOLS).default('TCP'),
    /** Defaults to `port`; DR and TUN cannot change the port. */
    realPort: portSchema.optional(),
    scheduler: z.enum(LVS_SCHEDULERS).default('wrr'),
    forwarding: z.enum(LVS_FORWARDING).default('DR'),
    /** Seconds a client sticks to one real server; absent means no persistence. */
    persistenceTimeout: z.int().min(1).max(2_592_000).optional(),
    /** SYN-flood defence of the FULLNAT fork; FNAT and TCP only. */
    synProxy: z.boolean().default(false),
    /** The cluster's local-address group FNAT translates through; required for FNAT. */
    localAddressGroup: keepalivedNameSchema.optional(),
    /** Seconds between health checks. */
    delayLoop: z.int().min(1).max(3600).optional(),
    healthCheck: lvsHealthCheckSchema.default({ type: 'TCP_CHECK', connectTimeout: 3 }),
  })
  .superRefine((vs, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if ((vs.forwarding === 'DR' || vs.forwarding === 'TUN') && vs.realPort !== undefined && vs.realPort !== vs.port) {
      issue('realPort', `${vs.forwarding} forwarding keeps the port: realPort must equal port`);
    }
    if (vs.synProxy && vs.forwarding !== 'FNAT') issue('synProxy', 'syn_proxy needs FNAT forwarding');
    if (vs.synProxy && vs.protocol !== 'TCP') issue('synProxy', 'syn_proxy applies to TCP only');
    if (vs.forwarding === 'FNAT' && vs.localAddressGroup === undefined) issue('localAddressGroup', 'required for FNAT');
    if (vs.forwarding !== 'FNAT' && vs.localAddressGroup !== undefined) issue('localAddressGroup', 'only allowed with FNAT');
    const check = vs.healthCheck.type;
    if (vs.protocol === 'UDP' && (check === 'TCP_CHECK' || check === 'HTTP_GET')) issue('healthCheck', `${check} cannot check a UDP service`);
    if (vs.protocol === 'TCP' && check === 'UDP_CHECK') issue('healthCheck', 'UDP_CHECK cannot check a TCP service');
  });

/** A service node's LVS settings: its virtual services, each VIP:port/protocol once. */
export const lvsServiceSchema = z.strictObject({
  virtualServices: z
    .array(lvsVirtualServiceSchema)
    .max(64)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((vs, i) => {
        const key = `${vs.vip} ${vs.port} ${vs.protocol}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `${vs.protocol} ${vs.vip}:${vs.port} is listed twice` });
        seen.add(key);
      });
    }),
});

/** An LVS cluster's FULLNAT local addresses (`local_address_group`). */
export const lvsLocalAddressGroupSchema = z.strictObject({
  name: keepalivedNameSchema,
  addresses: z.array(ipAddressSchema).min(1).max(256),
});

export type LvsHealthCheckSettings = z.output<typeof lvsHealthCheckSchema>;
export type LvsVirtualServiceInput = z.input<typeof lvsVirtualServiceSchema>;
export type LvsVirtualServiceSettings = z.output<typeof lvsVirtualServiceSchema>;
export type LvsServiceSettings = z.output<typeof lvsServiceSchema>;
export type LvsLocalAddressGroupSettings = z.output<typeof lvsLocalAddressGroupSchema>;
