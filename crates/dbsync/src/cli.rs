//! The command line of PRODUCT.md §5, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

#[derive(Debug, Parser)]
#[command(name = "dbsync", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "DBSYNC_CONFIG",
        default_value = "dbsync.yaml"
    )]
    pub(crate) config: PathBuf,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Manage database connections.
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Manage sync pairs (pipelines).
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Run sync pairs: copy what is not copied yet, then follow the source.
    Run(RunArgs),
    /// Compare source and target row by row.
    Verify(VerifyArgs),
    /// Manage the capture triggers of a pair that uses trigger capture.
    #[command(subcommand)]
    Triggers(TriggersCommand),
    /// Compare or apply the schema of a pair's tables on its target.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Inspect and resolve conflicts of bidirectional pairs.
    #[command(subcommand)]
    Conflicts(ConflictsCommand),
    /// Manage the background service.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Show the state of every pair and table.
    Status {
        /// Refresh continuously.
        #[arg(long)]
        watch: bool,
    },
    /// Run the server: the REST API and every enabled pair.
    Serve,
    /// Print the shell completion script for SHELL, to source or install.
    Completions { shell: Shell },
    /// Show the whole story on a private sandbox, in one command.
    Demo {
        /// A MySQL/MariaDB URL whose (empty) database receives Sakila, instead of the
        /// sandbox's.
        #[arg(long, requires = "target")]
        source: Option<String>,
        /// A PostgreSQL URL to sync into, instead of the sandbox's.
        #[arg(long, requires = "source")]
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConnectionCommand {
    /// Add a connection (prompts for missing fields on a terminal).
    Add {
        name: Option<String>,
        /// Like mysql://user:password@host:3306/database or postgres://..., sqlite://PATH.
        #[arg(long)]
        url: Option<String>,
    },
    /// List connections.
    List,
    /// Check that a connection works and has what dbsync needs.
    Test { name: String },
    /// Remove a connection.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SyncCommand {
    /// Add a sync pair (prompts for missing fields on a terminal).
    Add(SyncAddArgs),
    /// List sync pairs.
    List,
    /// Show one sync pair.
    Show { pair: String },
    /// Enable a sync pair.
    Enable { pair: String },
    /// Disable a sync pair.
    Disable { pair: String },
    /// Remove a sync pair.
    Remove { pair: String },
}

#[derive(Debug, Args)]
pub(crate) struct SyncAddArgs {
    pub(crate) name: Option<String>,
    /// The connection read from.
    #[arg(long)]
    pub(crate) source: Option<String>,
    /// The connection written to.
    #[arg(long)]
    pub(crate) target: Option<String>,
    /// Table globs; `!audit_*` excludes. All tables when not given.
    #[arg(long, value_delimiter = ',')]
    pub(crate) tables: Vec<String>,
    /// binlog, logical, triggers, poll or snapshot; the source engine's usual way when
    /// not given.
    #[arg(long)]
    pub(crate) capture: Option<String>,
    /// The PostgreSQL schema that receives the tables.
    #[arg(long)]
    pub(crate) target_schema: Option<String>,
    /// Add the pair disabled: kept, not run until `dbsync sync enable`.
    #[arg(long)]
    pub(crate) disabled: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The pairs to run; all enabled pairs when none is named.
    pub(crate) pairs: Vec<String>,
    /// Copy every table again from the start.
    #[arg(long)]
    pub(crate) full: bool,
    /// Fix every difference between source and target.
    #[arg(long)]
    pub(crate) repair: bool,
    /// Insert the rows missing on the target, and change nothing else.
    #[arg(long)]
    pub(crate) repair_missing: bool,
    /// Exit once the target has caught up with the source.
    #[arg(long)]
    pub(crate) once: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The pairs to verify; all enabled pairs when none is named.
    pub(crate) pairs: Vec<String>,
    /// Only these tables.
    #[arg(long, value_delimiter = ',')]
    pub(crate) tables: Vec<String>,
    /// Fix the differences found.
    #[arg(long)]
    pub(crate) repair: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TriggersCommand {
    /// Install the capture triggers on the pair's source tables.
    Install(TriggersArgs),
    /// Remove them.
    Remove(TriggersArgs),
    /// Show the triggers that `install` would create.
    Show(TriggersArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TriggersArgs {
    pub(crate) pair: String,
    /// Print the SQL instead of running it.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SchemaCommand {
    /// Show how the target's tables differ from what the source needs.
    Diff { pair: String },
    /// Create or alter the target's tables to match.
    Apply { pair: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConflictsCommand {
    /// List unresolved conflicts.
    List,
    /// Show one conflict.
    Show { id: String },
    /// Resolve one conflict.
    Resolve { id: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Start the service.
    Start {
        /// Detach and run in the background.
        #[arg(long)]
        daemon: bool,
    },
    /// Stop the service.
    Stop,
    /// Restart the service.
    Restart,
    /// Show whether the service runs.
    Status,
}

impl Command {
    /// The words a user typed to reach this command, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Connection(command) => match command {
                ConnectionCommand::Add { .. } => "connection add",
                ConnectionCommand::List => "connection list",
                ConnectionCommand::Test { .. } => "connection test",
                ConnectionCommand::Remove { .. } => "connection remove",
            },
            Command::Sync(command) => match command {
                SyncCommand::Add(_) => "sync add",
                SyncCommand::List => "sync list",
                SyncCommand::Show { .. } => "sync show",
                SyncCommand::Enable { .. } => "sync enable",
                SyncCommand::Disable { .. } => "sync disable",
                SyncCommand::Remove { .. } => "sync remove",
            },
            Command::Run(_) => "run",
            Command::Verify(_) => "verify",
            Command::Triggers(command) => match command {
                TriggersCommand::Install(_) => "triggers install",
                TriggersCommand::Remove(_) => "triggers remove",
                TriggersCommand::Show(_) => "triggers show",
            },
            Command::Schema(command) => match command {
                SchemaCommand::Diff { .. } => "schema diff",
                SchemaCommand::Apply { .. } => "schema apply",
            },
            Command::Conflicts(command) => match command {
                ConflictsCommand::List => "conflicts list",
                ConflictsCommand::Show { .. } => "conflicts show",
                ConflictsCommand::Resolve { .. } => "conflicts resolve",
            },
            Command::Service(command) => match command {
                ServiceCommand::Start { .. } => "service start",
                ServiceCommand::Stop => "service stop",
                ServiceCommand::Restart => "service restart",
                ServiceCommand::Status => "service status",
            },
            Command::Status { .. } => "status",
            Command::Serve => "serve",
            Command::Completions { .. } => "completions",
            Command::Demo { .. } => "demo",
        }
    }
}
