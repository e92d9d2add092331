//! Load + validate + lower a generated spec of 10,000 resources; prints wall time and
//! peak RSS. `cargo bench -p drplan-core --bench load` (target: < 1 s, < 200 MB).

use std::fmt::Write;
use std::time::Instant;

fn generate(dir: &std::path::Path) -> usize {
    let mut spec = String::from(
        "variable \"env\" {\n  type = string\n}\nlocals {\n  prefix = \"bench-${var.env}\"\n}\n\
         site \"primary\" {\n  region = \"us-west-2\"\n}\nsite \"dr\" {\n  region = \"us-east-1\"\n}\n\
         zone \"z\" {\n  name = \"bench.example.com\"\n}\n",
    );
    let mut resources = 1;
    let sites = [("primary", "us-west-2"), ("dr", "us-east-1")];
    // 1000 networks x (vpc + 4 subnets) = 5000
    for i in 0..1000 {
        let (site, region) = sites[i % 2];
        let n = i / 2;
        let _ = write!(
            spec,
            "network \"n{i}\" {{\n  site = site.{site}\n  cidr = \"10.{}.{}.0/24\"\n",
            n / 256,
            n % 256
        );
        for s in 0..4 {
            let az = ["a", "b", "c", "d"][s];
            let _ = write!(
                spec,
                "  subnet \"s{s}\" {{\n    availability_zone = \"{region}{az}\"\n    cidr = cidrsubnet(\"10.{}.{}.0/24\", 2, {s})\n  }}\n",
                n / 256,
                n % 256
            );
        }
        spec.push_str("}\n");
        resources += 5;
    }
    // 500 clusters x (cluster + 2 node groups) = 1500
    for i in 0..500 {
        let site = sites[i % 2].0;
        let _ = write!(
            spec,
            "cluster \"c{i}\" {{\n  site = site.{site}\n  name = \"${{local.prefix}}-c{i}\"\n  version = \"1.29\"\n  network = network.n{i}\n  role_arn = \"arn:aws:iam::123456789012:role/eks\"\n"
        );
        for g in 0..2 {
            let _ = write!(
                spec,
                "  node_group \"g{g}\" {{\n    instance_types = [\"m5.large\"]\n    min_size = 0\n    desired_size = site.{site}.active ? 2 : 0\n    max_size = 4\n    node_role_arn = \"arn:aws:iam::123456789012:role/node\"\n  }}\n"
            );
        }
        spec.push_str("}\n");
        resources += 3;
    }
    // 2000 buckets, half replicating to the other site
    for i in 0..2000 {
        let site = sites[i % 2].0;
        let _ = write!(
            spec,
            "bucket \"b{i}\" {{\n  site = site.{site}\n  name = \"${{local.prefix}}-b{i}\"\n"
        );
        if i % 2 == 0 {
            let _ = write!(
                spec,
                "  replication {{\n    role_arn = \"arn:aws:iam::123456789012:role/r\"\n    destination = bucket.b{}\n  }}\n",
                i + 1
            );
        }
        spec.push_str("  lifecycle_rule \"tmp\" {\n    prefix = \"tmp/\"\n    expire_after = \"7d\"\n  }\n}\n");
        resources += 1;
    }
    // 500 failover records x (2 records + 1 health check) = 1500
    for i in 0..500 {
        let _ = write!(
            spec,
            "dns \"d{i}\" {{\n  zone = zone.z\n  name = \"r{i}\"\n  target \"primary\" {{\n    site = site.primary\n    records = [\"p{i}.example.net\"]\n    health_check {{\n      fqdn = \"p{i}.example.net\"\n      path = \"/health\"\n    }}\n  }}\n  target \"dr\" {{\n    site = site.dr\n    records = [\"d{i}.example.net\"]\n  }}\n}}\n"
        );
        resources += 3;
    }
    std::fs::create_dir_all(dir.join("specs")).expect("mkdir");
    std::fs::create_dir_all(dir.join("environments")).expect("mkdir");
    std::fs::write(dir.join("specs/bench.hcl"), spec).expect("write");
    std::fs::write(
        dir.join("environments/bench.hcl"),
        "stack = \"bench\"\nvariables {\n  env = \"prod\"\n}\n",
    )
    .expect("write");
    resources
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = generate(dir.path());
    let size = std::fs::metadata(dir.path().join("specs/bench.hcl"))
        .map(|m| m.len())
        .unwrap_or(0);
    let start = Instant::now();
    let project = match drplan_core::spec::load_project(dir.path(), "bench") {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render(false, 100));
            std::process::exit(1);
        }
    };
    let elapsed = start.elapsed();
    assert_eq!(project.resources.len(), expected);
    println!(
        "load+validate+lower: {} resources from {:.1} MB of HCL in {:.3} s, peak RSS {:.1} MB",
        project.resources.len(),
        size as f64 / 1e6,
        elapsed.as_secs_f64(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
}
