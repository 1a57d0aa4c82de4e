//! The `balsam-server` command: parse the CLI, load configuration, run a subcommand.

use anyhow::Context;
use balsam_server::config::{Config, Overrides};
use balsam_server::{auth, telemetry, Application};
use balsam_store::StoreError;
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// The Balsam central service: the REST API that Balsam's CLI, SDK and Site agents
/// talk to, and the live web interface.
#[derive(Parser)]
#[command(name = "balsam-server", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// What to do (default: serve).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct GlobalArgs {
    /// Configuration file (default: ./balsam.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory: the SQLite database and generated secrets [default: balsam-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data dir].
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the data directory and database and migrates on first run).
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Manage users (for servers with registration switched off, or to reset passwords).
    #[command(subcommand)]
    User(UserCommand),
    /// Print the commented default configuration (a starting point for balsam.toml).
    DefaultConfig,
    /// Give the event log a new epoch, so every websocket client resyncs instead of
    /// resuming: run it after restoring a database backup (docs/realtime.md).
    NewLogEpoch,
}

#[derive(Args, Default)]
struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8000].
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<String>,
    /// Serve the built web client from this folder (e.g. web/dist) at `/`, instead of the
    /// one embedded in binaries built with the `embed-web` feature (`make release`).
    #[arg(long, value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// Redis URL for the channel layer shared by several replicas [default: in-process].
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is prompted for, or read from the first line of stdin.
    Add {
        /// Username.
        name: String,
    },
    /// Set a user's password (revokes the user's tokens). Prompted for, or read from the
    /// first line of stdin.
    Passwd {
        /// Username.
        name: String,
    },
    /// Delete a user and everything they own (their tokens stop working at once).
    Delete {
        /// Username.
        name: String,
    },
    /// Revoke every token of a user (log them out everywhere).
    Revoke {
        /// Username.
        name: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    if let Command::DefaultConfig = command {
        print!("{}", balsam_server::config::DEFAULTS);
        return Ok(());
    }
    let serve_args = match &command {
        Command::Serve(args) => Some(args),
        _ => None,
    };
    let overrides = Overrides {
        data_dir: cli.global.data_dir,
        database_url: cli.global.database_url,
        bind: serve_args.and_then(|a| a.bind.clone()),
        web_dir: serve_args.and_then(|a| a.web_dir.clone()),
        redis_url: serve_args.and_then(|a| a.redis_url.clone()),
    };
    let config =
        Config::load(cli.global.config.as_deref(), &overrides).context("invalid configuration")?;
    telemetry::init(&config.telemetry);

    match command {
        Command::Serve(_) => serve(config).await,
        Command::Migrate => {
            let url = config.database_url();
            let store = balsam_store::connect(&url, 2).await?;
            store.migrate().await?;
            store.close().await;
            println!("migrations applied to {}", balsam_store::redact_url(&url));
            Ok(())
        }
        Command::User(cmd) => user(config, cmd).await,
        Command::NewLogEpoch => {
            let store = balsam_store::connect(&config.database_url(), 2).await?;
            store.migrate().await?;
            let epoch = store.new_log_epoch().await;
            store.close().await;
            println!("the event log's epoch is now {}", epoch?);
            Ok(())
        }
        Command::DefaultConfig => Ok(()),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let db = balsam_store::redact_url(&config.database_url());
    let web = balsam_server::http::spa::WebSource::from_config(&config.web.dist_dir);
    let application = Application::build(config).await?;
    let addr = application.local_addr()?;
    let open_registration = application.state().config.auth.allow_registration;
    let base = format!("http://{addr}");
    println!(
        "balsam-server {} listening on {base}",
        env!("CARGO_PKG_VERSION")
    );
    println!("  API root:    {base}/api/v1   (docs: {base}/api/v1/docs)");
    if let Some(web) = web {
        println!("  web client:  {base}/   ({web})");
    }
    println!("  data:        {}   (database: {db})", data_dir.display());
    println!(
        "  create user: balsam-server --data-dir {} user add NAME",
        data_dir.display()
    );
    if open_registration {
        println!("               or: balsam register   (registration is open)");
    }
    println!("  point Balsam at it: balsam login -u {base}/api/v1");
    application
        .run_until(balsam_server::shutdown::signal())
        .await?;
    println!("balsam-server stopped");
    Ok(())
}

async fn user(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let store = balsam_store::connect(&config.database_url(), 2).await?;
    store.migrate().await?;
    let result = match cmd {
        UserCommand::Add { name } => {
            let password = read_password(&name)?;
            let hash = auth::password::hash_async(password).await?;
            match store.create_user(&name, &hash).await {
                Ok(user) => {
                    println!("created user {} (id {})", user.username, user.id);
                    Ok(())
                }
                Err(StoreError::Conflict { .. }) => Err(anyhow::anyhow!(
                    "user {name:?} already exists (use `user passwd {name}` to change the password)"
                )),
                Err(err) => Err(err.into()),
            }
        }
        UserCommand::Passwd { name } => {
            let password = read_password(&name)?;
            let hash = auth::password::hash_async(password).await?;
            match store.set_user_password(&name, &hash).await {
                Ok(()) => {
                    println!("password of {name} changed");
                    Ok(())
                }
                Err(StoreError::NotFound) => Err(anyhow::anyhow!("no user named {name:?}")),
                Err(err) => Err(err.into()),
            }
        }
        UserCommand::Delete { name } => match store.delete_user(&name).await {
            Ok(()) => {
                println!("deleted user {name}");
                Ok(())
            }
            Err(StoreError::NotFound) => Err(anyhow::anyhow!("no user named {name:?}")),
            Err(err) => Err(err.into()),
        },
        UserCommand::Revoke { name } => match store.find_user_credentials(&name).await? {
            Some(creds) => {
                store.revoke_tokens(creds.user.id).await?;
                println!("revoked every token of {name}");
                Ok(())
            }
            None => Err(anyhow::anyhow!("no user named {name:?}")),
        },
    };
    store.close().await;
    result
}

fn read_password(name: &str) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))?;
        let again = rpassword::prompt_password("again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    anyhow::ensure!(!password.is_empty(), "the password must not be empty");
    Ok(password)
}
