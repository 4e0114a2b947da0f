// Checks and reads rendered Kubernetes manifests (deploy/kubernetes), for scripts/test-manifests.sh
// and scripts/test-container.sh. Needs the npm packages `kubernetes-models` and `yaml` on
// NODE_PATH (the scripts install them into a scratch directory, never into the repository).
//
//   node scripts/manifests.js validate FILE...   every object against the Kubernetes API schema,
//                                                field names strictly; then llmload's own rules
//   node scripts/manifests.js pods FILE DIR      each Job's containers as files the container
//                                                test runs: DIR/<job>.<container>.{entrypoint,
//                                                args,mounts}
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

function fail(msg) {
  console.error(`manifests: ${msg}`);
  process.exit(1);
}

function load(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) fail(`${file}: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter((o) => o);
}

function where(file, obj) {
  return `${file}: ${obj.kind}/${obj.metadata && obj.metadata.name}`;
}

// kubernetes-models names a schema after the API group and version: batch/v1 Job is
// IoK8sApiBatchV1Job, v1 Service IoK8sApiCoreV1Service.
function schemaName(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  return `IoK8sApi${cap(group.split('.')[0])}${cap(version)}${kind}`;
}

// The schema's validator reads every property it knows (and every key of a map); a property it
// never read is a field name the API does not have (`imagee:`), which the validator itself lets
// pass. Reads are seen through a Proxy.
function unknownFields(validate, obj) {
  const seen = new Set();
  const track = (v, p) =>
    v === null || typeof v !== 'object'
      ? v
      : new Proxy(v, {
          get(t, k, r) {
            if (typeof k === 'string' && Object.prototype.hasOwnProperty.call(t, k)) {
              seen.add(`${p}/${k}`);
              return track(t[k], `${p}/${k}`);
            }
            return Reflect.get(t, k, r);
          },
        });
  const ok = validate(track(obj, ''));
  const unknown = [];
  const walk = (v, p) => {
    if (v === null || typeof v !== 'object') return;
    for (const k of Object.keys(v)) {
      if (!seen.has(`${p}/${k}`)) unknown.push(`${p}/${k}`);
      else walk(v[k], `${p}/${k}`);
    }
  };
  walk(obj, '');
  return { ok, errors: validate.errors, unknown };
}

function validateSchema(file, obj) {
  let Model, validate;
  try {
    Model = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)[obj.kind];
    // The schemas are not among the package's exports: required by their path.
    const root = path.dirname(require.resolve('kubernetes-models'));
    validate = require(path.join(root, '_schemas', `${schemaName(obj.apiVersion, obj.kind)}.js`))
      .validate;
  } catch (e) {
    fail(`${where(file, obj)}: no schema for ${obj.apiVersion} ${obj.kind} (${e.message})`);
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    fail(`${where(file, obj)}: ${e.message}`);
  }
  const r = unknownFields(validate, obj);
  if (!r.ok) fail(`${where(file, obj)}: ${JSON.stringify(r.errors[0])}`);
  if (r.unknown.length) fail(`${where(file, obj)}: unknown field ${r.unknown.join(', ')}`);
  return validate;
}

// The strict check must refuse a misspelt field: proven on every object, every run.
function checkStrictCheckWorks(file, obj, validate) {
  const bad = JSON.parse(JSON.stringify(obj));
  bad.metadata.nmae = 'x';
  if (unknownFields(validate, bad).unknown.length !== 1) {
    fail(`${where(file, obj)}: the strict field check missed a misspelt field`);
  }
}

function flag(args, name) {
  const a = (args || []).find((x) => x.startsWith(`${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 1);
}

function findJob(file, objs, component) {
  const jobs = objs.filter(
    (o) => o.kind === 'Job' && o.metadata.labels['app.kubernetes.io/component'] === component
  );
  if (jobs.length !== 1) fail(`${file}: ${jobs.length} Job(s) labelled component=${component}`);
  return jobs[0];
}

function container(file, job, name) {
  const c = job.spec.template.spec.containers.find((x) => x.name === name);
  if (!c) fail(`${where(file, job)}: no container ${name}`);
  return c;
}

// llmload's own rules for its manifests: what the schema cannot know.
function checkLlmload(file, objs) {
  const coordJob = findJob(file, objs, 'coordinator');
  const workJob = findJob(file, objs, 'worker');
  const coord = container(file, coordJob, 'coordinator');
  const worker = container(file, workJob, 'worker');
  const n = workJob.spec.parallelism;
  const why = (msg) => fail(`${file}: ${msg}`);
  if (workJob.spec.completionMode !== 'Indexed') why('the worker Job is not Indexed');
  if (workJob.spec.completions !== n) why(`worker completions ${workJob.spec.completions} != parallelism ${n}`);
  if (flag(coord.args, '--workers') !== String(n)) {
    why(`coordinator --workers=${flag(coord.args, '--workers')} != worker parallelism ${n}`);
  }
  for (const job of [coordJob, workJob]) {
    if (!(job.spec.ttlSecondsAfterFinished > 0)) why(`${job.metadata.name}: no ttlSecondsAfterFinished`);
    if (job.spec.template.spec.restartPolicy !== 'Never') why(`${job.metadata.name}: restartPolicy is not Never`);
  }
  // One attempt: the coordinator's exit code is the Job's outcome, and a retry would be a new run.
  if (coordJob.spec.backoffLimit !== 0) why('the coordinator Job retries');
  if (!worker.args.includes('--exit-after-run')) why('workers without --exit-after-run never complete');
  for (const c of [coord, worker]) {
    if (!c.resources || !c.resources.requests || !c.resources.limits) why(`${c.name}: no resource requests and limits`);
  }
  const anti = workJob.spec.template.spec.affinity;
  if (!anti || !anti.podAntiAffinity || !anti.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution) {
    why('workers have no preferred pod anti-affinity');
  }
  const bind = flag(coord.args, '--bind') || '';
  if (!/^tcp:\/\/(127\.|localhost)/.test(bind) && !(flag(coord.args, '--curve-key') && flag(coord.args, '--allow-keys'))) {
    why(`coordinator binds ${bind} without --curve-key and --allow-keys`);
  }
  // The workers' --connect names a Service in front of the coordinator's pods, on a port it has.
  const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(flag(worker.args, '--connect') || '');
  if (!m) why(`worker --connect=${flag(worker.args, '--connect')} is not tcp://SERVICE:PORT`);
  const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === m[1]);
  if (!svc) why(`worker --connect names ${m[1]}, which is no Service here`);
  if (!svc.spec.ports.some((p) => p.port === Number(m[2]))) why(`Service ${m[1]} has no port ${m[2]}`);
  const labels = coordJob.spec.template.metadata.labels || {};
  for (const [k, v] of Object.entries(svc.spec.selector || {})) {
    if (labels[k] !== v) why(`Service ${m[1]} selects ${k}=${v}, not a label of the coordinator's pods`);
  }
  if (!Object.keys(svc.spec.selector || {}).length) why(`Service ${m[1]} has no selector`);
  const prom = flag(coord.args, '--prometheus');
  const ann = svc.metadata.annotations || {};
  if (!prom || ann['prometheus.io/scrape'] !== 'true' || prom.split(':').pop() !== ann['prometheus.io/port']) {
    why(`Service ${m[1]}: prometheus.io annotations do not match --prometheus=${prom}`);
  }
  // Every ConfigMap and claim a pod mounts is rendered here (the Secret is made by kubectl).
  for (const job of [coordJob, workJob]) {
    for (const v of job.spec.template.spec.volumes || []) {
      if (v.configMap && !objs.some((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap.name)) {
        why(`${job.metadata.name} mounts ConfigMap ${v.configMap.name}, which is not rendered`);
      }
      if (v.persistentVolumeClaim &&
          !objs.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === v.persistentVolumeClaim.claimName)) {
        why(`${job.metadata.name} mounts claim ${v.persistentVolumeClaim.claimName}, which is not rendered`);
      }
    }
  }
  return n;
}

function cmdValidate(files) {
  for (const file of files) {
    const objs = load(file);
    if (!objs.length) fail(`${file}: no objects`);
    for (const obj of objs) checkStrictCheckWorks(file, obj, validateSchema(file, obj));
    const kinds = objs.map((o) => o.kind).join(', ');
    const n = objs.some((o) => o.kind === 'Job') ? `, ${checkLlmload(file, objs)} workers` : '';
    console.log(`manifests: ${file}: ${objs.length} objects valid (${kinds})${n}`);
  }
}

// Each Job's init and main containers, in the order a pod runs them: DIR/<job>.<container>.*
// and DIR/<job>.containers (their names, one a line).
function cmdPods(file, dir) {
  for (const job of load(file).filter((o) => o.kind === 'Job')) {
    const spec = job.spec.template.spec;
    const all = [...(spec.initContainers || []), ...spec.containers];
    const base = path.join(dir, job.metadata.labels['app.kubernetes.io/component']);
    fs.writeFileSync(`${base}.containers`, all.map((c) => `${c.name}\n`).join(''));
    for (const c of all) {
      const lines = (a) => (a || []).map((x) => `${x}\n`).join('');
      fs.writeFileSync(`${base}.${c.name}.entrypoint`, c.command ? JSON.stringify(c.command) : '');
      fs.writeFileSync(`${base}.${c.name}.args`, lines(c.args));
      fs.writeFileSync(
        `${base}.${c.name}.mounts`,
        lines((c.volumeMounts || []).map((m) => `${m.name} ${m.mountPath} ${m.readOnly ? 'ro' : 'rw'}`))
      );
    }
  }
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'validate' && rest.length) cmdValidate(rest);
else if (cmd === 'pods' && rest.length === 2) cmdPods(rest[0], rest[1]);
else fail('usage: manifests.js validate FILE... | pods FILE DIR');
