// Run Backstage's own catalog client (@backstage/catalog-client, pinned in package.json)
// against a live Greenroom server and compare every answer with what the Python test computed
// from the database (tests/test_backstage_client.py).
//
// Input: the environment variable CATALOG_CHECK, a JSON object with the server's base URL,
// a service token, and the expected results (see `expected.*` below).
// Output: one line per step; on the first mismatch or client error, what was expected, what
// came back, and the last HTTP requests the client made; exit code 1.
// `node check_catalog.mjs --keep-going` runs every step even after a failure (still exit 1).

import { readFile, writeFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';

import { CatalogClient } from '@backstage/catalog-client';

const expected = JSON.parse(process.env.CATALOG_CHECK ?? 'null');
if (!expected) {
  console.error('CATALOG_CHECK must hold the expected catalog as JSON');
  process.exit(2);
}
const keepGoing = process.argv.includes('--keep-going');

// -- the client, as a Backstage backend plugin would build it --------------------------------

const requestLog = [];

async function loggedFetch(url, init) {
  const entry = { method: init?.method ?? 'GET', url: String(url), body: init?.body };
  requestLog.push(entry);
  if (requestLog.length > 4) requestLog.shift();
  const headers = { ...init?.headers };
  if (expected.token) headers.Authorization = `Bearer ${expected.token}`;
  const response = await fetch(url, { ...init, headers });
  entry.status = response.status;
  return response;
}

const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => expected.baseUrl },
  fetchApi: { fetch: loggedFetch },
});

// -- checks ----------------------------------------------------------------------------------

class Mismatch extends Error {}

function clip(text, length = 600) {
  return text.length > length ? `${text.slice(0, length)}… (${text.length} characters)` : text;
}

function show(value) {
  return JSON.stringify(value === undefined ? '<undefined>' : value);
}

function check(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function same(actual, wanted, what) {
  if (!isDeepStrictEqual(actual, wanted)) {
    throw new Mismatch(`${what}\n    expected ${show(wanted)}\n    got      ${show(actual)}`);
  }
}

function refOf(entity) {
  const namespace = entity?.metadata?.namespace ?? 'default';
  return `${entity?.kind}:${namespace}/${entity?.metadata?.name}`.toLowerCase();
}

function sorted(values) {
  return [...values].sort();
}

function noDuplicates(refs, what) {
  const seen = new Set();
  const duplicates = refs.filter(ref => seen.has(ref) || !seen.add(ref));
  same(duplicates, [], `${what}: duplicates`);
}

async function eventually(what, probe) {
  const deadline = Date.now() + expected.timeoutSeconds * 1000;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last.ok) return last.value;
    await new Promise(resolve => setTimeout(resolve, 300));
  }
  throw new Mismatch(`${what} within ${expected.timeoutSeconds} s; last seen ${show(last?.seen)}`);
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

function describeError(error) {
  if (error instanceof Mismatch) return error.message;
  const lines = [`${error?.name}: ${error?.message}`];
  if (error?.name === 'ResponseError') {
    lines.push(`    status ${error.statusCode} from ${error.response?.url}`);
    lines.push(`    body   ${clip(JSON.stringify(error.body))}`);
  } else if (error?.stack) {
    lines.push(error.stack.split('\n').slice(1, 4).join('\n'));
  }
  return lines.join('\n');
}

// -- the steps -------------------------------------------------------------------------------

const steps = [];
function step(name, run) {
  steps.push({ name, run });
}

step('getEntities: filter, fields and order', async () => {
  // Backstage's client sends /entities?fields=…&filter=kind=component,spec.type=service
  // &order=desc:metadata.name
  const { items } = await client.getEntities({
    filter: { kind: 'component', 'spec.type': 'service' },
    fields: ['kind', 'metadata.name', 'metadata.namespace', 'spec.owner'],
    order: { field: 'metadata.name', order: 'desc' },
  });
  const names = items.map(item => item?.metadata?.name);
  const wantedNames = expected.services.map(item => item.metadata.name);
  same(sorted(names), sorted(wantedNames), 'the set of component services');
  same(names, wantedNames, 'the order (metadata.name descending)');
  items.forEach((item, index) => same(item, expected.services[index], `projection of ${names[index]}`));
});

step('getEntities: several filters are OR-ed', async () => {
  const { items } = await client.getEntities({
    filter: [{ kind: 'group' }, { kind: 'api' }],
    fields: ['kind', 'metadata.name'],
  });
  same(sorted(items.map(refOf)), expected.groupsAndApis, 'groups or APIs');
});

step('queryEntities: every page by cursor, limit 7', async () => {
  const total = expected.allRefs.length;
  const pageCount = Math.ceil(total / 7);
  const pages = [await client.queryEntities({ limit: 7 })];
  while (pages.at(-1).pageInfo?.nextCursor) {
    check(pages.length <= pageCount, `more than the ${pageCount} pages that ${total} entities need`);
    pages.push(await client.queryEntities({ cursor: pages.at(-1).pageInfo.nextCursor, limit: 7 }));
  }
  same(pages.length, pageCount, `the number of pages for ${total} entities`);
  pages.forEach((page, index) => {
    const size = index < pageCount - 1 ? 7 : total - 7 * (pageCount - 1);
    same(page.items.length, size, `the size of page ${index + 1}`);
    same(page.totalItems, total, `totalItems on page ${index + 1}`);
  });
  same(pages[0].pageInfo.prevCursor, undefined, 'prevCursor on the first page');
  const refs = pages.flatMap(page => page.items.map(refOf));
  noDuplicates(refs, 'refs across pages');
  same(sorted(refs), expected.allRefs, 'every entity exactly once across pages');

  const prevCursor = pages[1].pageInfo.prevCursor;
  check(typeof prevCursor === 'string', `page 2 has no prevCursor: ${show(pages[1].pageInfo)}`);
  const back = await client.queryEntities({ cursor: prevCursor, limit: 7 });
  same(back.items.map(refOf), pages[0].items.map(refOf), 'page 2 prevCursor leads to page 1');
});

step('queryEntities: orderFields and fullTextFilter, by cursor, limit 5', async () => {
  // GET /entities/by-query?limit=5&orderField=metadata.name,asc&filter=kind=component
  // &fullTextFilterTerm=ING&fullTextFilterFields=metadata.name
  const wanted = expected.fullTextIng;
  const pages = [
    await client.queryEntities({
      filter: { kind: 'component' },
      orderFields: { field: 'metadata.name', order: 'asc' },
      fullTextFilter: { term: 'ING', fields: ['metadata.name'] },
      limit: 5,
    }),
  ];
  while (pages.at(-1).pageInfo?.nextCursor) {
    check(pages.length <= wanted.length, 'more pages than matches');
    pages.push(await client.queryEntities({ cursor: pages.at(-1).pageInfo.nextCursor, limit: 5 }));
  }
  pages.forEach((page, index) =>
    same(page.totalItems, wanted.length, `totalItems on page ${index + 1}`),
  );
  same(
    pages.flatMap(page => page.items.map(refOf)),
    wanted,
    'components whose name contains "ing", by name ascending',
  );
});

step('getEntityByRef: hit and miss', async () => {
  const { ref, shortRef, uid, ownedBy } = expected.lookup;
  const hit = await client.getEntityByRef(shortRef);
  check(hit !== undefined, `${shortRef} was not found`);
  same(refOf(hit), ref, 'the ref of the entity found');
  same(hit.metadata.uid, uid, `metadata.uid of ${ref}`);
  check(Array.isArray(hit.relations), `${ref} has no relations array`);
  check(
    hit.relations.some(r => r.type === 'ownedBy' && r.targetRef === ownedBy),
    `${ref} has no ownedBy relation to ${ownedBy}: ${show(hit.relations)}`,
  );
  same(await client.getEntityByRef('component:default/no-such-entity'), undefined, 'a miss');
});

step('getEntitiesByRefs: input order, misses as undefined, fields', async () => {
  const { refs, uids } = expected.byRefs;
  const missing = 'component:default/no-such-entity';
  const entityRefs = [refs[2], missing, refs[0], refs[1]];
  const { items } = await client.getEntitiesByRefs({ entityRefs });
  same(items.length, 4, 'one item per requested ref');
  same(items[1], undefined, `the item for ${missing}`);
  same(
    [items[0], items[2], items[3]].map(item => item?.metadata?.uid),
    [uids[2], uids[0], uids[1]],
    'uids in input order',
  );
  const projected = await client.getEntitiesByRefs({
    entityRefs: [refs[0], missing],
    fields: ['metadata.name'],
  });
  same(
    projected.items,
    [{ metadata: { name: expected.byRefs.names[0] } }, undefined],
    'by refs with fields',
  );
});

step('getEntityFacets: spec.type and kind of java-tagged entities', async () => {
  // GET /entity-facets?facet=spec.type&facet=kind&filter=metadata.tags=java
  const response = await client.getEntityFacets({
    facets: ['spec.type', 'kind'],
    filter: { 'metadata.tags': 'java' },
  });
  check(response !== undefined, 'getEntityFacets answered 404 (undefined)');
  same(sorted(Object.keys(response.facets ?? {})), ['kind', 'spec.type'], 'the facets returned');
  for (const [facet, wanted] of Object.entries(expected.facets)) {
    const counts = Object.fromEntries(response.facets[facet].map(f => [f.value, f.count]));
    same(counts, wanted, `counts of ${facet}`);
  }
});

step('getLocations', async () => {
  const { items } = await client.getLocations();
  const byId = list => [...list].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const withoutRef = list => list.map(({ entityRef, ...location }) => location);
  same(withoutRef(byId(items)), withoutRef(byId(expected.locations)), 'id, type and target');
  // Location.entityRef is required since catalog-client 1.15 (the generated Location entity).
  same(byId(items), byId(expected.locations), 'the registered locations with entityRef');
});

step('validateEntity: valid and invalid', async () => {
  const { location, valid, invalid } = expected.validate;
  same(await client.validateEntity(valid, location), { valid: true }, 'a valid entity');
  const result = await client.validateEntity(invalid, location);
  same(result.valid, false, 'valid for an entity with a bad metadata.name');
  check(
    Array.isArray(result.errors) && result.errors.length > 0,
    `no errors for an invalid entity: ${show(result)}`,
  );
  for (const error of result.errors) {
    check(
      typeof error.name === 'string' && typeof error.message === 'string',
      `an error is not a serialized Error {name, message}: ${show(error)}`,
    );
  }
  check(
    result.errors.some(error => error.message.includes('metadata.name')),
    `no error names metadata.name: ${show(result.errors)}`,
  );
});

step('addLocation: dryRun registers nothing', async () => {
  const { target, entityRef, refs } = expected.extra;
  const before = await client.getLocations();
  const dry = await client.addLocation({ type: 'file', target, dryRun: true });
  same(dry.location?.type, 'file', 'location.type');
  same(dry.location?.target, target, 'location.target');
  same(dry.exists, false, 'exists for a new target');
  check(Array.isArray(dry.entities), `no entities array in the dry run: ${show(dry)}`);
  const found = dry.entities.map(refOf);
  for (const ref of refs) check(found.includes(ref), `dry run did not return ${ref}: ${show(found)}`);
  const after = await client.getLocations();
  same(after, before, 'getLocations after the dry run');
  same(await client.getEntityByRef(refs.at(-1)), undefined, 'an entity of the dry run');

  const again = await client.addLocation({ type: 'file', target: expected.root, dryRun: true });
  same(again.exists, true, 'exists for the registered root location');
  same(dry.location.entityRef, entityRef, 'location.entityRef of the dry run');
});

step('addLocation: registers, ingests, and rejects the same target again', async () => {
  const { target, entityRef, refs } = expected.extra;
  const added = await client.addLocation({ type: 'file', target });
  const { id } = added.location;
  check(typeof id === 'string' && id.length > 0, `no location.id: ${show(added)}`);
  const { entityRef: createdRef, ...created } = added.location;
  same(created, { id, type: 'file', target }, 'the location created');
  same(added.entities, [], 'entities of a registration (only a dry run lists them)');
  const { items } = await client.getLocations();
  same(
    items.filter(item => item.id === id).map(({ entityRef: _, ...location }) => location),
    [{ id, type: 'file', target }],
    'the new location in getLocations',
  );
  for (const ref of refs) {
    await eventually(`${ref} is served`, async () => {
      const entity = await client.getEntityByRef(ref);
      return { ok: entity !== undefined, value: entity };
    });
  }
  const error = await rejection(client.addLocation({ type: 'file', target }));
  check(error !== undefined, 'a second addLocation of the same target was accepted');
  check(
    error.name === 'ResponseError' && error.statusCode === 409,
    `a second addLocation failed, but not with 409: ${describeError(error)}`,
  );
  same(error.cause?.name, 'ConflictError', 'the error name of the 409');
  same(createdRef, entityRef, 'location.entityRef of the location created');
});

step('removeEntityByUid', async () => {
  const { ref, uid } = expected.remove;
  check((await client.getEntityByRef(ref)) !== undefined, `${ref} is missing before removal`);
  await client.removeEntityByUid(uid);
  same(await client.getEntityByRef(ref), undefined, `${ref} after removeEntityByUid`);
});

step('refreshEntity: resolves, and picks up an edited file', async () => {
  const { ref, path, before, after } = expected.refresh;
  await client.refreshEntity(ref);
  const text = await readFile(path, 'utf8');
  check(text.includes(before), `${path} does not contain ${show(before)}`);
  await writeFile(path, text.replace(before, after));
  await client.refreshEntity(ref);
  await eventually(`the description of ${ref} becomes ${show(after)}`, async () => {
    const entity = await client.getEntityByRef(ref);
    const seen = entity?.metadata?.description;
    return { ok: seen === after, seen };
  });
});

// -- run -------------------------------------------------------------------------------------

let failures = 0;
for (const { name, run } of steps) {
  requestLog.length = 0;
  try {
    await run();
    console.log(`ok    ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL  ${name}\n  ${describeError(error)}`);
    console.log('  last requests:');
    for (const { method, url, status, body } of requestLog) {
      console.log(`    ${method} ${url} -> ${status ?? 'no response'}${body ? ` ${clip(body, 300)}` : ''}`);
    }
    if (!keepGoing) break;
  }
}
if (failures) {
  console.log(`${failures} step(s) failed`);
  process.exit(1);
}
console.log(`all ${steps.length} steps passed`);
