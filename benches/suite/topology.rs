//! The topology generator every benchmark uses: a spec project of about N resources
//! over K sites, written to disk as a user would write it (specs/*.hcl, k8s/ manifests,
//! environments for normal operation and for DR activation).
//!
//! The topology is built from cells of 89-98 resources, each in one site, so cost can be
//! compared across N: 5 networks (VPC + 3 subnets), one EKS cluster with a system and
//! an app node group (the app group is at 0 nodes unless its site is active), one
//! `kubernetes` block (a namespace and 8 objects; in dr-role sites enabled only under
//! DR activation), 15 bucket pairs replicating to the next site, and 12 DNS names with
//! failover between this site and the next (two records and a health check each).

use std::fmt::Write;
use std::path::Path;

pub const STACK: &str = "bench";
/// Normal operation: the primary site serves.
pub const ENV: &str = "bench";
/// DR activation: the second site serves.
pub const ENV_DR: &str = "bench-dr";

pub const REGIONS: [(&str, &str); 4] = [
    ("primary", "us-west-2"),
    ("dr", "us-east-1"),
    ("eu", "eu-west-1"),
    ("ap", "ap-southeast-2"),
];
const NETWORKS_PER_CELL: usize = 5;
const BUCKET_PAIRS_PER_CELL: usize = 15;
const DNS_NAMES_PER_CELL: usize = 12;
/// 96 names per zone: 290 record sets with the ownership TXT records and the apex,
/// one page of ListResourceRecordSets.
const CELLS_PER_ZONE: usize = 8;
/// Networks 20, cluster 3, buckets 30, DNS 36.
const RESOURCES_PER_CELL_OUTSIDE_K8S: usize = 89;
/// A namespace and the 8 objects of k8s/app.yaml.
const K8S_OBJECTS_PER_CELL: usize = 9;

#[derive(Clone, Debug)]
pub struct Topology {
    pub cells: usize,
    pub sites: usize,
    /// Cluster block labels, which are also the kubeconfig context names.
    pub clusters: Vec<String>,
}

impl Topology {
    /// About `n` resources over `sites` sites (2..=4), counted as planned under normal
    /// operation: dr-role cells' Kubernetes objects only exist under DR activation.
    pub fn new(n: usize, sites: usize) -> Self {
        let sites = sites.clamp(2, REGIONS.len());
        let per_cell =
            RESOURCES_PER_CELL_OUTSIDE_K8S as f64 + K8S_OBJECTS_PER_CELL as f64 / sites as f64;
        let cells = ((n as f64 / per_cell).round() as usize).max(1);
        Topology {
            cells,
            sites,
            clusters: (0..cells).map(|c| format!("c{c}")).collect(),
        }
    }

    fn site_of(&self, cell: usize) -> usize {
        cell % self.sites
    }

    fn next(&self, site: usize) -> usize {
        (site + 1) % self.sites
    }

    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        for sub in ["specs", "environments", "k8s"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        std::fs::write(dir.join("specs/sites.hcl"), self.sites_hcl())?;
        std::fs::write(dir.join("specs/topology.hcl"), self.topology_hcl())?;
        std::fs::write(dir.join("k8s/app.yaml"), APP_MANIFEST)?;
        std::fs::write(
            dir.join(format!("environments/{ENV}.hcl")),
            self.environment(None),
        )?;
        std::fs::write(
            dir.join(format!("environments/{ENV_DR}.hcl")),
            self.environment(Some("dr")),
        )?;
        Ok(())
    }

    fn sites_hcl(&self) -> String {
        let mut out = String::from("locals {\n  account = \"123456789012\"\n}\n\n");
        for (i, (site, region)) in REGIONS.iter().take(self.sites).enumerate() {
            let role = if i == 0 { "primary" } else { "dr" };
            let _ = writeln!(
                out,
                "site \"{site}\" {{\n  region = \"{region}\"\n  role   = \"{role}\"\n}}\n"
            );
        }
        for z in 0..self.cells.div_ceil(CELLS_PER_ZONE) {
            let _ = writeln!(
                out,
                "zone \"z{z}\" {{\n  name = \"z{z}.bench.example.com\"\n}}\n"
            );
        }
        out
    }

    fn topology_hcl(&self) -> String {
        let mut out = String::new();
        for cell in 0..self.cells {
            self.cell(&mut out, cell);
        }
        out
    }

    fn cell(&self, out: &mut String, cell: usize) {
        let s = self.site_of(cell);
        let (site, region) = REGIONS[s];
        let (next, next_region) = REGIONS[self.next(s)];
        for n in 0..NETWORKS_PER_CELL {
            let v = cell * NETWORKS_PER_CELL + n;
            let cidr = format!("10.{}.{}.0/24", v / 256, v % 256);
            let _ = writeln!(
                out,
                "network \"n{cell}_{n}\" {{\n  site = site.{site}\n  cidr = \"{cidr}\""
            );
            for (k, az) in ["a", "b", "c"].iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  subnet \"s{k}\" {{\n    availability_zone = \"{region}{az}\"\n    cidr              = cidrsubnet(\"{cidr}\", 2, {k})\n  }}"
                );
            }
            out.push_str("}\n");
        }
        let _ = writeln!(
            out,
            "cluster \"c{cell}\" {{\n  site     = site.{site}\n  name     = \"bench-c{cell}\"\n  version  = \"1.29\"\n  network  = network.n{cell}_0\n  role_arn = \"arn:aws:iam::${{local.account}}:role/eks\"\n  tags     = {{ team = \"bench\" }}\n  node_group \"system\" {{\n    instance_types = [\"m5.large\"]\n    min_size       = 1\n    desired_size   = 2\n    max_size       = 4\n    node_role_arn  = \"arn:aws:iam::${{local.account}}:role/node\"\n  }}\n  node_group \"app\" {{\n    instance_types = [\"m5.xlarge\"]\n    min_size       = 0\n    desired_size   = site.{site}.active ? 3 : 0\n    max_size       = 6\n    node_role_arn  = \"arn:aws:iam::${{local.account}}:role/node\"\n  }}\n}}"
        );
        let enabled = if s == 0 {
            String::new()
        } else {
            format!("\n  enabled    = site.{site}.active")
        };
        let _ = writeln!(
            out,
            "kubernetes \"k{cell}\" {{\n  cluster    = cluster.c{cell}\n  manifests  = [\"k8s/app.yaml\"]\n  namespaces = [\"shop\"]{enabled}\n}}"
        );
        for p in 0..BUCKET_PAIRS_PER_CELL {
            for (b, bucket_site) in [(2 * p, site), (2 * p + 1, next)] {
                let _ = write!(
                    out,
                    "bucket \"b{cell}_{b}\" {{\n  site       = site.{bucket_site}\n  name       = \"bench-{cell}-{b}\"\n  versioning = true\n  tags       = {{ data = \"backups\" }}\n  encryption {{\n    algorithm  = \"aws:kms\"\n    kms_key_id = \"alias/bench\"\n  }}\n  lifecycle_rule \"tmp\" {{\n    prefix       = \"tmp/\"\n    expire_after = \"7d\"\n  }}\n"
                );
                if b % 2 == 0 {
                    let _ = write!(
                        out,
                        "  replication {{\n    role_arn    = \"arn:aws:iam::${{local.account}}:role/replication\"\n    destination = bucket.b{cell}_{}\n  }}\n",
                        b + 1
                    );
                }
                out.push_str("}\n");
            }
        }
        let zone = cell / CELLS_PER_ZONE;
        for d in 0..DNS_NAMES_PER_CELL {
            let _ = writeln!(
                out,
                "dns \"d{cell}_{d}\" {{\n  zone = zone.z{zone}\n  name = \"svc{cell}-{d}\"\n  type = \"CNAME\"\n  ttl  = 60\n  target \"primary\" {{\n    site    = site.{site}\n    records = [\"svc{cell}-{d}.{region}.elb.amazonaws.com\"]\n    health_check {{\n      type = \"HTTPS\"\n      fqdn = \"svc{cell}-{d}.{region}.elb.amazonaws.com\"\n      path = \"/health\"\n    }}\n  }}\n  target \"dr\" {{\n    site    = site.{next}\n    records = [\"svc{cell}-{d}.{next_region}.elb.amazonaws.com\"]\n  }}\n}}"
            );
        }
    }

    fn environment(&self, active: Option<&str>) -> String {
        let mut out = format!("stack      = \"{STACK}\"\naccount_id = \"123456789012\"\n");
        if let Some(site) = active {
            let _ = writeln!(out, "active_site = \"{site}\"");
        }
        for c in &self.clusters {
            let _ = writeln!(out, "\ncluster_access \"{c}\" {{\n  context = \"{c}\"\n}}");
        }
        out
    }
}

/// What a small service team deploys per cluster: three services with their config.
const APP_MANIFEST: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  namespace: shop
data:
  region: any
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-flags
  namespace: shop
data:
  checkout: "on"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: { app: cart }
  template:
    metadata:
      labels: { app: cart }
    spec:
      containers:
        - name: cart
          image: registry.example.com/shop/cart:2.0.1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:5.1.0
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector: { app: api }
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: { app: cart }
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: { app: web }
  ports:
    - port: 80
      targetPort: 8080
"#;
