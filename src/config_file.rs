//! The configuration file of `wirehub serve --config FILE` and
//! `wirehub config check FILE`.
//!
//! The file is TOML with one table per section of
//! [`ServeArgs`](crate::serve::ServeArgs): `[engine] ping_interval = 1000`
//! stands for `--ping-interval 1000`. A key is its flag's long name with
//! the section's prefix dropped (`[tls] cert` is `--tls-cert`), `-` written
//! `_`. Nothing here lists the settings: a section is found by its help
//! heading, a key by the flags under that heading, and a value is checked by
//! its flag's own parser. So every flag is in the file the day it is added,
//! and a key the flags do not know is an error that names it.
//!
//! Precedence: flags, then environment variables, then the file, then the
//! defaults. The file's settings become flags (`--ping-interval=1000`) for
//! every setting not already given on the command line or in the
//! environment, and the command line is parsed again with them.

use anyhow::{bail, Context};
use clap::error::{ContextKind, ContextValue};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

/// A `[section]` of the file: the help heading of its flags, and the
/// prefix its keys drop from their flags' names.
struct Section {
    name: &'static str,
    heading: &'static str,
    prefix: &'static str,
}

/// Every section, in the order `config check` prints them. A flag under a
/// heading missing here fails a unit test.
const SECTIONS: &[Section] = &[
    Section {
        name: "server",
        heading: "Server",
        prefix: "",
    },
    Section {
        name: "engine",
        heading: "Engine.IO",
        prefix: "",
    },
    Section {
        name: "socketio",
        heading: "Socket.IO",
        prefix: "",
    },
    Section {
        name: "websocket",
        heading: "WebSocket",
        prefix: "ws-",
    },
    Section {
        name: "cors",
        heading: "CORS",
        prefix: "cors-",
    },
    Section {
        name: "history",
        heading: "History",
        prefix: "history-",
    },
    Section {
        name: "recovery",
        heading: "Recovery",
        prefix: "recovery-",
    },
    Section {
        name: "plain",
        heading: "Plain transports",
        prefix: "",
    },
    Section {
        name: "sockjs",
        heading: "SockJS",
        prefix: "sockjs-",
    },
    Section {
        name: "api",
        heading: "HTTP API",
        prefix: "api-",
    },
    Section {
        name: "limits",
        heading: "Limits",
        prefix: "",
    },
    Section {
        name: "cluster",
        heading: "Cluster",
        prefix: "",
    },
    Section {
        name: "admin",
        heading: "Admin UI",
        prefix: "admin-",
    },
    Section {
        name: "tls",
        heading: "TLS",
        prefix: "tls-",
    },
    Section {
        name: "auth",
        heading: "Auth",
        prefix: "",
    },
    Section {
        name: "log",
        heading: "Logging",
        prefix: "log-",
    },
    Section {
        name: "metrics",
        heading: "Metrics",
        prefix: "metrics-",
    },
];

impl Section {
    /// The flags of this section.
    fn args<'c>(&self, serve: &'c Command) -> impl Iterator<Item = &'c Arg> + use<'c, '_> {
        serve
            .get_arguments()
            .filter(move |a| a.get_help_heading() == Some(self.heading))
    }

    /// The file key of `arg`, one of this section's flags.
    fn key(&self, arg: &Arg) -> String {
        let long = arg.get_long().unwrap_or_else(|| arg.get_id().as_str());
        long.strip_prefix(self.prefix)
            .unwrap_or(long)
            .replace('-', "_")
    }
}

/// The `serve` subcommand of `cli`.
fn serve_command(cli: &Command) -> &Command {
    cli.find_subcommand("serve")
        .expect("the command line has a serve subcommand")
}

/// The flags that `path`'s settings stand for, leaving out those `given`
/// (the `serve` matches) already has from the command line or the
/// environment. The file must parse, and each of its keys must name a flag
/// and hold a value that flag accepts; else the error names the key (or
/// the line of a syntax error).
pub(crate) fn flags_from_file(
    cli: &Command,
    path: &Path,
    given: &ArgMatches,
) -> anyhow::Result<FileFlags> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    flags_from_table(serve_command(cli), &table, given)
        .with_context(|| format!("in the configuration file {}", path.display()))
}

/// The flags a file stands for, and the ids of the settings they set.
#[derive(Debug, Default)]
pub(crate) struct FileFlags {
    /// `--name=value` (or `--name` for a switch), in the file's order.
    pub(crate) flags: Vec<OsString>,
    /// The ids of the settings the file set (and nothing overrode).
    pub(crate) ids: Vec<String>,
}

fn flags_from_table(
    serve: &Command,
    table: &toml::Table,
    given: &ArgMatches,
) -> anyhow::Result<FileFlags> {
    let mut out = FileFlags::default();
    for (name, value) in table {
        let Some(section) = SECTIONS.iter().find(|s| s.name == name) else {
            let names: Vec<_> = SECTIONS.iter().map(|s| s.name).collect();
            bail!("unknown section [{name}] (sections: {})", names.join(", "));
        };
        let toml::Value::Table(settings) = value else {
            bail!("`{name}` must be a section: [{name}]");
        };
        for (key, value) in settings {
            let Some(arg) = section.args(serve).find(|a| section.key(a) == *key) else {
                let keys: Vec<_> = section.args(serve).map(|a| section.key(a)).collect();
                bail!(
                    "unknown key `{name}.{key}` (keys of [{name}]: {})",
                    keys.join(", ")
                );
            };
            let overridden = matches!(
                given.value_source(arg.get_id().as_str()),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            );
            let values = flag_values(arg, value).with_context(|| format!("`{name}.{key}`"))?;
            if !overridden {
                let long = arg.get_long().expect("every serve option has a long flag");
                out.ids.push(arg.get_id().to_string());
                out.flags.extend(values.into_iter().map(|v| match v {
                    Some(v) => OsString::from(format!("--{long}={v}")),
                    None => OsString::from(format!("--{long}")),
                }));
            }
        }
    }
    Ok(out)
}

/// What `value` stands for on the command line: `None` for a switch that
/// is on, one value per occurrence of the flag otherwise (a switch that is
/// off gives none). Each value is checked by the flag's own parser.
fn flag_values(arg: &Arg, value: &toml::Value) -> anyhow::Result<Vec<Option<String>>> {
    if is_switch(arg) {
        return match value {
            toml::Value::Boolean(true) => Ok(vec![None]),
            toml::Value::Boolean(false) => Ok(vec![]),
            other => bail!("expected true or false, found {other}"),
        };
    }
    let items: Vec<&toml::Value> = match value {
        toml::Value::Array(items) if takes_many(arg) => items.iter().collect(),
        toml::Value::Array(_) => bail!("expected one value, found a list"),
        one => vec![one],
    };
    items
        .into_iter()
        .map(|item| {
            let text = match item {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => bail!("expected a string or a number, found {other}"),
            };
            check_value(arg, &text)?;
            Ok(Some(text))
        })
        .collect()
}

/// Whether `arg`'s parser takes `text`: run on a command of that one value
/// (clap does not expose a parser's check on its own).
fn check_value(arg: &Arg, text: &str) -> anyhow::Result<()> {
    let probe = Arg::new("value")
        .value_parser(arg.get_value_parser().clone())
        .action(ArgAction::Set)
        .allow_hyphen_values(true);
    let command = Command::new("value").no_binary_name(true).arg(probe);
    let Err(e) = command.try_get_matches_from([text]) else {
        return Ok(());
    };
    match (
        std::error::Error::source(&e),
        e.get(ContextKind::ValidValue),
    ) {
        (Some(cause), _) => bail!("invalid value {text:?}: {cause}"),
        (None, Some(ContextValue::Strings(valid))) => {
            bail!(
                "invalid value {text:?} (possible values: {})",
                valid.join(", ")
            )
        }
        _ => bail!("invalid value {text:?}"),
    }
}

fn is_switch(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
}

fn takes_many(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append)
}

/// The effective configuration of `wirehub serve` with these `matches`
/// (of the `serve` subcommand; `from_file`: the ids the file set), as a
/// configuration file: every section and key, with where each value came
/// from; secrets are not shown.
pub(crate) fn render(cli: &Command, matches: &ArgMatches, from_file: &[String]) -> String {
    let serve = serve_command(cli);
    let mut out = String::new();
    for section in SECTIONS {
        let _ = writeln!(out, "[{}]", section.name);
        for arg in section.args(serve) {
            let id = arg.get_id().as_str();
            let key = section.key(arg);
            let source = match matches.value_source(id) {
                _ if from_file.iter().any(|f| f == id) => "file",
                Some(ValueSource::CommandLine) => "flag",
                Some(ValueSource::EnvVariable) => "environment",
                Some(ValueSource::DefaultValue) => "default",
                _ => "not set",
            };
            let line = match rendered_value(arg, matches) {
                Some(value) => format!("{key} = {value}"),
                None => format!("# {key} ="),
            };
            let _ = writeln!(out, "{line:<44} # {source}");
        }
        out.push('\n');
    }
    out
}

/// `wirehub config check FILE`: the effective configuration that
/// `wirehub serve --config FILE` would run with (the file, the environment
/// over it), or the error that names what is wrong.
pub(crate) fn check(cli: &Command, file: &Path) -> anyhow::Result<String> {
    let argv = || ["wirehub", "serve"].map(OsString::from);
    let base = cli.clone().try_get_matches_from(argv())?;
    let serve = base.subcommand_matches("serve").expect("serve");
    let file_flags = flags_from_file(cli, file, serve)?;
    let full = argv().into_iter().chain(file_flags.flags);
    let matches = cli.clone().try_get_matches_from(full)?;
    let serve = matches.subcommand_matches("serve").expect("serve");
    let args = <crate::serve::ServeArgs as clap::FromArgMatches>::from_arg_matches(serve)?;
    args.validate()?;
    Ok(render(cli, serve, &file_flags.ids))
}

/// A configuration file with every section and key, commented out at its
/// default, under its flag's help (`wirehub config example`; the
/// repository's `wirehub.example.toml` is this text).
pub(crate) fn example(cli: &Command) -> String {
    let serve = serve_command(cli);
    let mut out = String::from(
        "# wirehub serve --config wirehub.toml\n\
         #\n\
         # Every setting of `wirehub serve`, at its default. A key is its flag's\n\
         # name in its section (`[engine] ping_interval` is `--ping-interval`);\n\
         # environment variables and flags override the file. Check a file with\n\
         # `wirehub config check FILE`. Written by `wirehub config example`.\n\n",
    );
    for section in SECTIONS {
        let _ = writeln!(out, "[{}]", section.name);
        for arg in section.args(serve) {
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            for line in wrap(&help, 74) {
                let _ = writeln!(out, "# {line}");
            }
            let long = arg.get_long().unwrap_or_default();
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            let _ = writeln!(
                out,
                "#   (--{long}{})",
                env.map(|e| format!(", {e}")).unwrap_or_default()
            );
            let default = if is_switch(arg) {
                "false".to_owned()
            } else {
                let delimiter = arg.get_value_delimiter();
                let values: Vec<String> = arg
                    .get_default_values()
                    .iter()
                    .flat_map(|v| {
                        let v = v.to_string_lossy().into_owned();
                        match delimiter {
                            Some(d) => v.split(d).map(str::to_owned).collect(),
                            None => vec![v],
                        }
                    })
                    .map(|v| toml_scalar(&v))
                    .collect();
                match (values.len(), takes_many(arg)) {
                    (0, _) => "…".to_owned(),
                    (_, true) => format!("[{}]", values.join(", ")),
                    _ => values.join(", "),
                }
            };
            let _ = writeln!(out, "# {} = {default}\n", section.key(arg));
        }
    }
    out
}

/// `text`'s words in lines of at most `width` characters (a paragraph
/// break stays one).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split("\n\n") {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// `arg`'s value in TOML, or `None` when it has none.
fn rendered_value(arg: &Arg, matches: &ArgMatches) -> Option<String> {
    let id = arg.get_id().as_str();
    if is_switch(arg) {
        return Some(matches.get_flag(id).to_string());
    }
    let values: Vec<String> = matches
        .get_raw(id)?
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if arg.is_hide_env_values_set() {
        return Some("\"(hidden)\"".into());
    }
    let rendered: Vec<String> = values.iter().map(|v| toml_scalar(v)).collect();
    Some(if takes_many(arg) {
        format!("[{}]", rendered.join(", "))
    } else {
        rendered.join(", ")
    })
}

/// A number as itself, anything else as a TOML string.
fn toml_scalar(value: &str) -> String {
    if value.parse::<u64>().is_ok() {
        value.to_owned()
    } else {
        toml::Value::String(value.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn cli() -> Command {
        crate::Cli::command()
    }

    fn serve_matches(cli: &Command, args: &[&str]) -> ArgMatches {
        let argv = ["wirehub", "serve"].iter().chain(args);
        let matches = cli.clone().try_get_matches_from(argv).expect("valid flags");
        matches.subcommand_matches("serve").expect("serve").clone()
    }

    fn flags(text: &str, given: &[&str]) -> anyhow::Result<Vec<String>> {
        let cli = cli();
        let table: toml::Table = toml::from_str(text).expect("valid TOML");
        let given = serve_matches(&cli, given);
        let file = flags_from_table(serve_command(&cli), &table, &given)?;
        Ok(file
            .flags
            .into_iter()
            .map(|f| f.into_string().unwrap())
            .collect())
    }

    #[test]
    fn every_serve_flag_is_in_one_section_under_one_key() {
        let cli = cli();
        let serve = serve_command(&cli);
        for arg in serve.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "config" | "help") {
                continue;
            }
            let heading = arg.get_help_heading();
            let in_sections = SECTIONS
                .iter()
                .filter(|s| Some(s.heading) == heading)
                .count();
            assert_eq!(
                in_sections, 1,
                "--{id} (heading {heading:?}) belongs to no section of the file"
            );
            assert!(arg.get_long().is_some(), "--{id} has no long flag");
        }
        for section in SECTIONS {
            let mut keys: Vec<_> = section.args(serve).map(|a| section.key(a)).collect();
            assert!(!keys.is_empty(), "[{}] has no flags", section.name);
            let count = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(
                keys.len(),
                count,
                "[{}] has two flags with one key",
                section.name
            );
        }
    }

    #[test]
    fn settings_become_flags_with_their_values() {
        let text = r#"
            [server]
            no_demo = true
            [engine]
            ping_interval = 1234
            transports = "polling"
            allow_eio3 = false
            [cors]
            origin = ["http://a.example", "http://b.example"]
            [websocket]
            deflate = true
            deflate_threshold = 64
        "#;
        assert_eq!(
            flags(text, &[]).unwrap(),
            [
                "--cors-origin=http://a.example",
                "--cors-origin=http://b.example",
                "--ping-interval=1234",
                "--transports=polling",
                "--no-demo",
                "--ws-deflate",
                "--ws-deflate-threshold=64",
            ]
        );
    }

    #[test]
    fn flags_given_on_the_command_line_are_not_taken_from_the_file() {
        let text = "[engine]\nping_interval = 1234\nping_timeout = 99\n";
        assert_eq!(
            flags(text, &["--ping-interval", "5"]).unwrap(),
            ["--ping-timeout=99"]
        );
    }

    #[test]
    fn unknown_sections_and_keys_are_errors_that_name_them() {
        let e = flags("[engine]\nping_intervl = 1\n", &[]).unwrap_err();
        assert!(
            format!("{e:#}").contains("unknown key `engine.ping_intervl`"),
            "{e:#}"
        );
        assert!(
            format!("{e:#}").contains("ping_interval"),
            "the known keys are listed: {e:#}"
        );
        let e = flags("[enigne]\nping_interval = 1\n", &[]).unwrap_err();
        assert!(
            format!("{e:#}").contains("unknown section [enigne]"),
            "{e:#}"
        );
        let e = flags("ping_interval = 1\n", &[]).unwrap_err();
        assert!(
            format!("{e:#}").contains("unknown section [ping_interval]"),
            "{e:#}"
        );
    }

    #[test]
    fn values_the_flag_refuses_are_errors_that_name_the_key() {
        let e = flags("[engine]\nping_interval = \"soon\"\n", &[]).unwrap_err();
        assert!(
            format!("{e:#}").starts_with("`engine.ping_interval`: "),
            "{e:#}"
        );
        let e = flags("[server]\nno_demo = \"yes\"\n", &[]).unwrap_err();
        assert!(
            format!("{e:#}").contains("`server.no_demo`: expected true or false"),
            "{e:#}"
        );
        let e = flags("[engine]\npath = [\"/a/\", \"/b/\"]\n", &[]).unwrap_err();
        assert!(format!("{e:#}").contains("expected one value"), "{e:#}");
        let e = flags("[socketio]\nparser = \"xml\"\n", &[]).unwrap_err();
        assert!(format!("{e:#}").contains("`socketio.parser`"), "{e:#}");
    }

    #[test]
    fn the_repository_example_is_the_generated_one_and_every_key_in_it_works() {
        let example = example(&cli());
        let committed = include_str!("../wirehub.example.toml");
        assert_eq!(
            committed, example,
            "wirehub.example.toml is stale: run `wirehub config example > wirehub.example.toml`"
        );
        // Uncommented, each `# key = value` line with a real default is a valid setting.
        let uncommented: String = example
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(setting)
                    if setting.contains(" = ")
                        && !setting.ends_with('…')
                        && !setting.starts_with(' ')
                        && setting
                            .split(" = ")
                            .next()
                            .is_some_and(|k| !k.contains(' ')) =>
                {
                    setting
                }
                _ if l.starts_with('[') => l,
                _ => "",
            })
            .fold(String::new(), |acc, l| acc + l + "\n");
        let table: toml::Table = toml::from_str(&uncommented).expect("valid TOML");
        assert!(flags(&uncommented, &[]).is_ok(), "{uncommented}");
        assert_eq!(table.len(), SECTIONS.len());
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let dir = std::env::temp_dir().join(format!("wirehub-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "[engine]\nping_interval = 1\nping_timeout = = 2\n").unwrap();
        let cli = cli();
        let given = serve_matches(&cli, &[]);
        let e = flags_from_file(&cli, &path, &given).unwrap_err();
        assert!(format!("{e:#}").contains("line 3"), "{e:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_rendering_shows_values_sources_and_hides_secrets() {
        let cli = cli();
        let argv = [
            "wirehub",
            "serve",
            "--ping-interval",
            "7",
            "--api-key",
            "s3cret",
            "--cors-origin",
            "http://a.example",
        ];
        let matches = cli.clone().try_get_matches_from(argv).unwrap();
        let text = render(&cli, matches.subcommand_matches("serve").unwrap(), &[]);
        assert!(text.contains("[engine]\n"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("ping_interval = 7 ") && l.ends_with("# flag")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("ping_timeout = 20000 ") && l.ends_with("# default")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("origin = [\"http://a.example\"]")),
            "{text}"
        );
        assert!(text.lines().any(|l| l.starts_with("# tcp =")), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        // What it prints is itself a valid file.
        let table: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert!(table.contains_key("limits"));
    }
}
