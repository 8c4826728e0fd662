//! Prints the OpenAPI document: `cargo run -p ingest --example openapi`.

fn main() {
    println!("{}", ingest::routes::openapi::json());
}
