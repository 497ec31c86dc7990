/**
 * A private DNS server on 127.0.0.1 (dns2, over UDP) answering from a small zone given by the
 * test: A, SRV and MX records by name, NXDOMAIN for everything else. Discovery's resolver is
 * pointed at it with `dnsServers: [server.address]`. It records every question, so a test can
 * see what was asked.
 */
import dns2 from 'dns2';

const { Packet } = dns2;
/** RFC 1035 §4.1.1: the name does not exist. */
const NXDOMAIN = 3;

export interface ZoneRecords {
  a?: string[];
  srv?: { priority: number; weight: number; port: number; target: string }[];
  mx?: { priority: number; exchange: string }[];
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, as node:dns's setServers takes it. */
  address: string;
  port: number;
  /** Every question asked so far, as `TYPE name`. */
  questions: string[];
  stop(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { [Packet.TYPE.A]: 'A', [Packet.TYPE.SRV]: 'SRV', [Packet.TYPE.MX]: 'MX', [Packet.TYPE.AAAA]: 'AAAA' };

export async function startDnsServer(zone: Record<string, ZoneRecords>): Promise<DnsServer> {
  const records = new Map(Object.entries(zone).map(([name, r]) => [name.toLowerCase(), r]));
  const questions: string[] = [];
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const question = request.questions[0];
    if (!question) return void send(response);
    const name = question.name.toLowerCase();
    questions.push(`${TYPE_NAMES[question.type] ?? question.type} ${name}`);
    const found = records.get(name);
    if (!found) response.header.rcode = NXDOMAIN;
    const base = { name: question.name, class: Packet.CLASS.IN, ttl: 60 };
    // dns2 encodes plain record objects; its types ask for its class instances.
    const answer = (record: object): (typeof response.answers)[number] => record as (typeof response.answers)[number];
    if (question.type === Packet.TYPE.A) for (const address of found?.a ?? []) response.answers.push(answer({ ...base, type: Packet.TYPE.A, address }));
    if (question.type === Packet.TYPE.SRV) for (const srv of found?.srv ?? []) response.answers.push(answer({ ...base, type: Packet.TYPE.SRV, ...srv }));
    if (question.type === Packet.TYPE.MX) for (const mx of found?.mx ?? []) response.answers.push(answer({ ...base, type: Packet.TYPE.MX, ...mx }));
    void send(response);
  });
  await server.listen(0, '127.0.0.1');
  const { port } = server.address();
  return {
    address: `127.0.0.1:${port}`,
    port,
    questions,
    stop: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
