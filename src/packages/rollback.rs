//! Why this exists: in independent mode one run releases several packages that belong together
//! (a dependent's published range names its dependency's new version), so rolling back one of
//! them alone would leave the others pointing at it. A rollback names one package's release and
//! puts back every release of the run it was part of — the tags its `release-plan.json` lists —
//! dependents first, each from its own journal.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::pipeline::Command;
use crate::plan::VersionSource;
use crate::report::RunReport;
use crate::request::ReleaseRequest;
use crate::targets::StepRecord;

use super::{Package, find, of_tag, packages};

/// Rolls back the run that released the package release `request` names.
pub fn rollback(request: &ReleaseRequest, config: &Config, started: std::time::Instant) -> Result<RunReport> {
    let packages = packages(&request.workspace, config)?;
    let tag = named_tag(request, &packages)?;
    let Some((client, _)) = crate::targets::github::client_for(config, request)? else {
        return Err(Error::input(
            "github-token",
            "rollback reads the release's journal from GitHub: give a token (input github-token, or GITHUB_TOKEN) and GITHUB_REPOSITORY",
        ));
    };
    let release = client.release_by_tag(&tag)?.ok_or_else(|| {
        Error::input(
            "version",
            format!(
                "there is no published release {tag} to roll back (a draft was never visible: re-run or delete it)"
            ),
        )
    })?;
    let assets = client.assets(release.id)?;
    let listed = crate::txn::rollback::release_plan(&client, &release, &assets)?
        .map(|plan| plan.released_with)
        .unwrap_or_default();
    let set = run_set(&tag, listed, &packages)?;
    // Every release of one run is of one commit: a list naming another commit's release was
    // edited, and is refused before anything is written.
    let commit = client.tag_commit(&tag)?;
    for (member, _) in &set {
        if let Some(other) = client.tag_commit(member)?
            && Some(&other) != commit.as_ref()
        {
            return Err(Error::Failed(format!(
                "the release-plan.json of {tag} lists {member}, which was released from another commit ({other}); it was edited — roll back by hand (README \"When a release goes wrong\")"
            )));
        }
    }
    let mut reports: Vec<RunReport> = Vec::new();
    // Dependents first: nothing is left pointing at a release that is already rolled back.
    for (member, package) in set.iter().rev() {
        let narrowed = super::run::config_for(config, package);
        if member != &tag && client.release_by_tag(member)?.is_none() {
            let mut skipped = RunReport::new(Command::Rollback, request.dry_run, placeholder(member, package), false);
            skipped.steps.push(StepRecord {
                target: "github".into(),
                action: format!("{member} was never published (its run stopped before it): nothing to roll back"),
                dry_run: request.dry_run,
            });
            reports.push(skipped);
            continue;
        }
        let mut one = request.clone();
        one.version = VersionSource::PushedTag(member.clone());
        match crate::txn::rollback::rollback(&one, &narrowed, started) {
            Ok(report) => reports.push(report),
            Err(error) if reports.is_empty() => return Err(error),
            Err(error) => {
                let done: Vec<&str> = reports.iter().map(|r| r.plan.tag.as_str()).collect();
                return Err(Error::Failed(format!(
                    "rolled back {}, then {member} failed: {error}; run the rollback again: it skips what is done",
                    done.join(", ")
                )));
            }
        }
    }
    reports.reverse();
    let mut report = RunReport::new(Command::Rollback, request.dry_run, reports[0].plan.clone(), false);
    report.rollback = reports.iter().find_map(|r| r.rollback.clone());
    report.packages = reports;
    Ok(report)
}

/// The tag the rollback names: `--version TAG`, or `--package NAME` with `--version X.Y.Z`.
fn named_tag(request: &ReleaseRequest, packages: &[Package]) -> Result<String> {
    let hint = "name the release: --version @scope/name@1.2.0 (its tag), or --package NAME with --version X.Y.Z (inputs version, package)";
    match (&request.version, request.package.as_deref()) {
        (VersionSource::PushedTag(tag), _) => match of_tag(packages, tag) {
            Some(_) => Ok(tag.clone()),
            None => Err(Error::input(
                "version",
                format!("{tag:?} is not the tag of a package this config releases; {hint}"),
            )),
        },
        (VersionSource::Explicit(version), Some(name)) => {
            Ok(crate::plan::version::tag_for(&find(packages, name)?.prefix, version))
        }
        _ => Err(Error::input(
            "version",
            format!("in independent mode every package has its own releases; {hint}"),
        )),
    }
}

/// The tags of the run, each with its package, in release order. The list comes from a release
/// asset anyone with write access can edit: every tag must be a package's, and `tag` among them.
fn run_set<'p>(tag: &str, listed: Vec<String>, packages: &'p [Package]) -> Result<Vec<(String, &'p Package)>> {
    let listed = if listed.is_empty() {
        vec![tag.to_string()]
    } else {
        listed
    };
    if !listed.iter().any(|t| t == tag) {
        return Err(Error::Failed(format!(
            "the release-plan.json of {tag} lists a run ({}) without {tag}; it was edited — roll back by hand (README \"When a release goes wrong\")",
            listed.join(", ")
        )));
    }
    let mut out: Vec<(String, &Package)> = Vec::new();
    for member in listed {
        let Some((package, _)) = of_tag(packages, &member) else {
            return Err(Error::Failed(format!(
                "the release-plan.json of {tag} lists {member:?}, which is not the tag of a package this config releases; it was edited — roll back by hand (README \"When a release goes wrong\")"
            )));
        };
        if out.iter().any(|(t, p)| *t == member || p.name == package.name) {
            return Err(Error::Failed(format!(
                "the release-plan.json of {tag} lists {} twice; it was edited — roll back by hand",
                package.name
            )));
        }
        out.push((member, package));
    }
    Ok(out)
}

/// A plan standing for a release of the run that was never published.
fn placeholder(tag: &str, package: &Package) -> crate::plan::ReleasePlan {
    let version = crate::plan::version::release_version_of(tag, &package.prefix)
        .map(|v| v.to_string())
        .unwrap_or_default();
    crate::plan::ReleasePlan {
        schema_version: crate::plan::PLAN_SCHEMA_VERSION,
        prerelease: version.contains('-'),
        version,
        tag: tag.to_string(),
        previous_version: None,
        previous_tag: None,
        commit: String::new(),
        commit_time: 0,
        repository: None,
        changelog: String::new(),
        notes: String::new(),
        artifacts: Vec::new(),
        targets: Vec::new(),
        metrics: Default::default(),
        package: Some(package.name.clone()),
        workspace_versions: Default::default(),
        released_with: Vec::new(),
        follows: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packages() -> Vec<Package> {
        ["shared", "api"]
            .iter()
            .enumerate()
            .map(|(i, n)| Package {
                name: (*n).into(),
                dir: format!("packages/{n}").into(),
                prefix: format!("{n}@"),
                manifest_version: None,
                tree_dir: format!("packages/{n}").into(),
                artifact: i,
            })
            .collect()
    }

    #[test]
    fn an_edited_run_list_is_refused() {
        let packages = packages();
        let ok = run_set("api@1.0.1", vec!["shared@1.1.0".into(), "api@1.0.1".into()], &packages).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(run_set("api@1.0.1", vec![], &packages).unwrap().len(), 1);
        for bad in [
            vec!["shared@1.1.0".to_string()],
            vec!["api@1.0.1".into(), "v9.9.9".into()],
            vec!["api@1.0.1".into(), "api@1.0.0".into()],
        ] {
            assert!(run_set("api@1.0.1", bad.clone(), &packages).is_err(), "{bad:?}");
        }
    }
}
