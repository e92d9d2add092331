//! Loads a project and prints its diagnostics or resources: `cargo run -p drplan-core
//! --example load -- DIR ENV`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(env)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: load DIR ENV");
        std::process::exit(2);
    };
    match drplan_core::spec::load_project(std::path::Path::new(dir), env) {
        Ok(p) => {
            for r in &p.resources {
                println!(
                    "{} {} {}",
                    r.address,
                    r.kind,
                    serde_json::Value::Object(r.attrs.clone().into())
                );
            }
            println!("{} resources, digest {}", p.resources.len(), p.digest);
        }
        Err(d) => {
            eprint!("{}", d.render(false, 100));
            std::process::exit(1);
        }
    }
}
