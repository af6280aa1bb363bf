// A small lint rule that enforces tools/layers.js on every import and re-export.
import path from 'node:path';
import { lazyLayers, layers, ownedPackages, protoPackages } from './layers.js';

const root = path.resolve(import.meta.dirname, '..');

/** Layer of an absolute file path, or null when the file is outside src/ and proto/. */
function layerOf(file) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === 'proto') return 'proto';
  if (rel[0] === 'src' && rel.length > 2) return rel[1];
  return null;
}

function packageName(spec) {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const importsRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports must follow the layer table of DESIGN.md' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (from === null) return {};
    if (!(from in layers)) {
      return {
        Program(node) {
          context.report({ node, message: `folder src/${from} is not in the layer table (tools/layers.js)` });
        },
      };
    }
    const allowed = layers[from];
    const lazy = lazyLayers[from] ?? [];
    function check(node, source, dynamic = false) {
      if (!source || typeof source.value !== 'string') return;
      const spec = source.value;
      if (spec.startsWith('.')) {
        const target = layerOf(path.resolve(path.dirname(file), spec));
        if (target === null || target === from) return;
        if (allowed.includes('*') || allowed.includes(target)) return;
        if (lazy.includes(target)) {
          if (dynamic || node.importKind === 'type' || node.exportKind === 'type') return;
          context.report({ node, message: `layer '${from}' may load layer '${target}' only by a dynamic import() (see tools/layers.js)` });
          return;
        }
        context.report({ node, message: `layer '${from}' may not import layer '${target}' (see tools/layers.js)` });
        return;
      }
      const pkg = packageName(spec);
      const owners = ownedPackages[pkg];
      if (owners && !owners.includes(from) && !allowed.includes('*')) {
        context.report({ node, message: `'${pkg}' belongs to layer ${owners.join('/')}; '${from}' may not import it` });
      }
      if (from === 'proto' && !spec.startsWith('node:') && !protoPackages.includes(pkg)) {
        context.report({ node, message: `proto/ may import only ${protoPackages.join(', ')} and node built-ins` });
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source),
      ExportNamedDeclaration: (n) => check(n, n.source),
      ExportAllDeclaration: (n) => check(n, n.source),
      ImportExpression: (n) => check(n, n.source, true),
    };
  },
};

export default { rules: { imports: importsRule } };
