"""Write a synthetic Backstage catalog of about N entities with realistic shape and relations.

The mix follows what large Backstage installs report: mostly components and APIs, one file
per repository (`repos/<group>/<name>/catalog-info.yaml`, a component plus often its API),
organisation data in big multi-document files, every reference resolvable.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

DUMP = yaml.CSafeDumper


def _doc(kind: str, name: str, spec: dict, **metadata: object) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, **metadata},
        "spec": spec,
    }


def write_catalog(root: Path, entities: int, seed: int = 7) -> dict[str, int]:
    """Write the catalog under root; return counts per kind and the number of files."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    n_groups = max(5, entities // 100)
    n_users = max(5, entities // 20)
    n_domains = max(1, entities // 2000)
    n_systems = max(2, entities // 100)
    n_resources = max(2, entities * 8 // 100)
    # components and APIs share the rest; every second repository also provides an API
    rest = entities - n_groups - n_users - n_domains - n_systems - n_resources
    n_components = max(1, rest * 2 // 3)
    n_apis = rest - n_components

    groups = [f"team-{i}" for i in range(n_groups)]
    org_docs = []
    for i, name in enumerate(groups):
        parent = groups[(i - 1) // 4] if i else None
        children = [groups[c] for c in range(4 * i + 1, min(4 * i + 5, n_groups))]
        spec = {
            "type": "team" if children == [] else "department",
            "children": children,
            "profile": {"displayName": name.title(), "email": f"{name}@example.com"},
        }
        if parent:
            spec["parent"] = parent
        org_docs.append(_doc("Group", name, spec))
    for i in range(n_users):
        org_docs.append(
            _doc(
                "User",
                f"user-{i}",
                {
                    "memberOf": [groups[rng.randrange(n_groups)]],
                    "profile": {"displayName": f"User {i}", "email": f"user-{i}@example.com"},
                },
            )
        )
    domains = [f"domain-{i}" for i in range(n_domains)]
    systems = [f"system-{i}" for i in range(n_systems)]
    for name in domains:
        org_docs.append(_doc("Domain", name, {"owner": rng.choice(groups)}))
    for name in systems:
        org_docs.append(
            _doc("System", name, {"owner": rng.choice(groups), "domain": rng.choice(domains)})
        )
    resources = [f"db-{i}" for i in range(n_resources)]
    for name in resources:
        org_docs.append(
            _doc(
                "Resource",
                name,
                {"type": "database", "owner": rng.choice(groups), "system": rng.choice(systems)},
            )
        )
    org_dir = root / "org"
    org_dir.mkdir(exist_ok=True)
    files = 0
    for start in range(0, len(org_docs), 1000):
        with (org_dir / f"org-{start // 1000:04d}.yaml").open("w") as handle:
            yaml.dump_all(org_docs[start : start + 1000], handle, Dumper=DUMP, sort_keys=False)
        files += 1

    api_names = [f"api-{i}" for i in range(n_apis)]
    for i in range(n_components):
        name = f"service-{i}"
        owner = rng.choice(groups)
        spec = {
            "type": rng.choice(["service", "service", "website", "library"]),
            "lifecycle": rng.choice(["production", "production", "experimental", "deprecated"]),
            "owner": owner,
            "system": rng.choice(systems),
            "dependsOn": [f"resource:{rng.choice(resources)}"]
            + [f"component:service-{rng.randrange(n_components)}" for _ in range(rng.randrange(3))],
            "consumesApis": [rng.choice(api_names) for _ in range(rng.randrange(3))]
            if api_names
            else [],
        }
        docs = []
        if i < n_apis:
            spec["providesApis"] = [api_names[i]]
            docs.append(
                _doc(
                    "API",
                    api_names[i],
                    {
                        "type": "openapi",
                        "lifecycle": "production",
                        "owner": owner,
                        "system": spec["system"],
                        "definition": f"openapi: 3.0.0\ninfo: {{title: {api_names[i]}}}\n",
                    },
                    description=f"API of {name}",
                )
            )
        docs.insert(
            0,
            _doc(
                "Component",
                name,
                spec,
                description=f"Synthetic service {i}",
                tags=["synthetic", rng.choice(["python", "java", "go"])],
                annotations={"github.com/project-slug": f"acme/{name}"},
                links=[{"url": f"https://dash.example.com/{name}", "title": "Dashboard"}],
            ),
        )
        folder = root / "repos" / f"{i % 100:02d}" / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "catalog-info.yaml").open("w") as handle:
            yaml.dump_all(docs, handle, Dumper=DUMP, sort_keys=False)
        files += 1
    return {
        "Group": n_groups,
        "User": n_users,
        "Domain": n_domains,
        "System": n_systems,
        "Resource": n_resources,
        "Component": n_components,
        "API": min(n_apis, n_components),
        "files": files,
    }
