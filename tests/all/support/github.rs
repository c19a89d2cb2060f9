//! A stateful stand-in for GitHub's REST API, built on wiremock: releases (drafts invisible to
//! get-by-tag), assets with `state` and `digest`, an `upload_url` on an uploads path, git refs,
//! "latest", 401 for a wrong token, 422 `already_exists` — and injected faults: 5xx, a 502 that
//! leaves a `starter` asset, 403 with `retry-after`, any answer with any body. Lists are paginated
//! as GitHub paginates them (`per_page` default 30, at most 100, `page`, a `Link` header). Every
//! request is logged so tests can count writes; an unknown route answers 501 and is remembered as
//! unexpected.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

pub const TOKEN: &str = "ghs_FakeGitHubToken0123456789";
pub const REPO: &str = "acme/widget";

#[derive(Debug, Clone)]
pub struct FakeAsset {
    /// The bytes, kept for small assets so they can be downloaded again.
    pub content: Option<Vec<u8>>,
    pub id: u64,
    pub name: String,
    pub state: String,
    pub size: u64,
    pub digest: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FakeRelease {
    pub id: u64,
    pub tag: String,
    pub draft: bool,
    pub prerelease: bool,
    pub body: String,
    pub assets: Vec<FakeAsset>,
}

/// What goes wrong, once, for the first request whose method matches and whose path contains
/// `path`.
#[derive(Debug, Clone)]
pub enum Fault {
    Status {
        method: &'static str,
        path: &'static str,
        status: u16,
    },
    StarterThen502 {
        path: &'static str,
    },
    RetryAfter {
        method: &'static str,
        path: &'static str,
        seconds: u64,
    },
    /// The request is carried out, then its answer is held back this long (a test kills the
    /// process meanwhile: the write happened, the answer was lost).
    Delay {
        method: &'static str,
        path: &'static str,
        millis: u64,
    },
    /// This status, headers and body instead of the real answer (an empty 200, a wrong shape,
    /// a `retry-after` in any form).
    Answer {
        method: &'static str,
        path: &'static str,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct FakeDeployment {
    pub id: u64,
    pub reference: String,
    pub environment: String,
    pub statuses: Vec<String>,
    /// Each status's description, as GitHub shows it to readers of the repository.
    pub descriptions: Vec<String>,
}

#[derive(Default)]
pub struct State {
    pub branches: BTreeMap<String, String>,
    pub commits: BTreeMap<String, (String, Vec<String>)>,
    /// Each commit's message, as GitHub answers it.
    pub commit_messages: BTreeMap<String, String>,
    pub trees: BTreeMap<String, Vec<(String, String)>>,
    pub blobs: BTreeMap<String, Vec<u8>>,
    pub deployments: Vec<FakeDeployment>,
    pub releases: Vec<FakeRelease>,
    pub tags: BTreeMap<String, String>,
    /// Refs outside heads/ and tags/, e.g. `tamma-release/lock`.
    pub refs: BTreeMap<String, String>,
    /// Annotated tag objects by sha.
    pub tag_objects: BTreeMap<String, Value>,
    pub latest: Option<u64>,
    pub faults: Vec<Fault>,
    pub log: Vec<(String, String)>,
    pub unexpected: Vec<String>,
    next_id: u64,
    base: String,
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

impl State {
    /// The files of a branch: path → content.
    pub fn branch_files(&self, branch: &str) -> BTreeMap<String, String> {
        let Some(commit) = self.branches.get(branch) else {
            return BTreeMap::new();
        };
        let tree = &self.commits[commit].0;
        self.trees[tree]
            .iter()
            .map(|(path, sha)| (path.clone(), String::from_utf8_lossy(&self.blobs[sha]).into_owned()))
            .collect()
    }

    pub fn writes(&self) -> usize {
        self.log.iter().filter(|(m, _)| m != "GET").count()
    }

    fn release_json(&self, r: &FakeRelease) -> Value {
        let base = &self.base;
        json!({
            "url": format!("{base}/repos/{REPO}/releases/{}", r.id), "html_url": format!("https://github.com/{REPO}/releases/tag/{}", r.tag),
            "assets_url": format!("{base}/repos/{REPO}/releases/{}/assets", r.id),
            "upload_url": format!("{base}/uploads/repos/{REPO}/releases/{}/assets{{?name,label}}", r.id),
            "id": r.id, "node_id": format!("RE_{}", r.id), "tag_name": r.tag, "target_commitish": "main", "name": r.tag,
            "draft": r.draft, "prerelease": r.prerelease, "body": r.body, "immutable": false,
            // GitHub's dates; here a second per release id, in the order they were made.
            "created_at": format!("2026-01-01T00:{:02}:{:02}Z", r.id / 60 % 60, r.id % 60),
            "published_at": (!r.draft).then(|| format!("2026-01-01T00:{:02}:{:02}Z", r.id / 60 % 60, r.id % 60)),
            "assets": r.assets.iter().map(|a| self.asset_json(a)).collect::<Vec<_>>(),
        })
    }

    fn asset_json(&self, a: &FakeAsset) -> Value {
        json!({
            "url": format!("{}/repos/{REPO}/releases/assets/{}", self.base, a.id), "id": a.id, "node_id": format!("RA_{}", a.id),
            "name": a.name, "state": a.state, "size": a.size, "digest": a.digest, "content_type": "application/octet-stream",
            "download_count": 0, "browser_download_url": format!("https://github.com/{REPO}/releases/download/x/{}", a.name),
        })
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// One page of a list, as GitHub answers: `per_page` (default 30, at most 100) items of `page`
/// (from 1), and a `Link` header naming the next and last pages while there are more.
fn paged(request: &Request, base: &str, items: Vec<Value>) -> ResponseTemplate {
    let query = |name: &str| {
        request
            .url
            .query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = query("per_page").unwrap_or(30).clamp(1, 100);
    let page = query("page").unwrap_or(1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let mut template = ResponseTemplate::new(200).set_body_json(slice);
    if page < last {
        let others: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let link = |p: usize| {
            let mut query = others.clone();
            query.push(format!("per_page={per_page}"));
            query.push(format!("page={p}"));
            format!("<{base}{}?{}>", request.url.path(), query.join("&"))
        };
        template = template.insert_header(
            "link",
            format!("{}; rel=\"next\", {}; rel=\"last\"", link(page + 1), link(last)).as_str(),
        );
    }
    template
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404)
        .set_body_json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}))
}

fn already_exists(resource: &str) -> ResponseTemplate {
    ResponseTemplate::new(422).set_body_json(json!({"message": "Validation Failed", "errors": [{"resource": resource, "code": "already_exists", "field": "name"}]}))
}

struct Router(Arc<Mutex<State>>);

impl Respond for Router {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request.method.to_string();
        let path = request.url.path().to_string();
        let delay = {
            let mut state = self.0.lock().unwrap();
            let found = state
                .faults
                .iter()
                .position(|f| matches!(f, Fault::Delay { method: m, path: p, .. } if *m == method && path.contains(p)));
            found.map(|i| match state.faults.remove(i) {
                Fault::Delay { millis, .. } => millis,
                _ => 0,
            })
        };
        let response = self.route(request);
        match delay {
            Some(millis) => response.set_delay(std::time::Duration::from_millis(millis)),
            None => response,
        }
    }
}

impl Router {
    fn route(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap();
        let method = request.method.to_string();
        let path = request.url.path().to_string();
        state.log.push((method.clone(), path.clone()));
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if auth != format!("Bearer {TOKEN}") {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}));
        }
        if let Some(index) = state.faults.iter().position(|f| match f {
            Fault::Status { method: m, path: p, .. } | Fault::RetryAfter { method: m, path: p, .. } => {
                *m == method && path.contains(p)
            }
            Fault::StarterThen502 { path: p } => method == "POST" && path.contains(p),
            Fault::Answer { method: m, path: p, .. } => *m == method && path.contains(p),
            Fault::Delay { .. } => false,
        }) {
            let fault = state.faults.remove(index);
            match fault {
                Fault::Status { status, .. } => {
                    return ResponseTemplate::new(status).set_body_json(json!({"message": "Server Error"}));
                }
                Fault::RetryAfter { seconds, .. } => {
                    return ResponseTemplate::new(403)
                        .insert_header("retry-after", seconds.to_string().as_str())
                        .set_body_json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}));
                }
                Fault::Delay { .. } => unreachable!("delays are taken before routing"),
                Fault::Answer {
                    status, headers, body, ..
                } => {
                    let mut answer = ResponseTemplate::new(status).set_body_string(body);
                    for (name, value) in headers {
                        answer = answer.insert_header(name, value.as_str());
                    }
                    return answer;
                }
                Fault::StarterThen502 { .. } => {
                    let name = request
                        .url
                        .query_pairs()
                        .find(|(k, _)| k == "name")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    let release_id: u64 = path.split('/').rev().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                    let id = state.id();
                    if let Some(release) = state.releases.iter_mut().find(|r| r.id == release_id) {
                        release.assets.push(FakeAsset {
                            content: None,
                            id,
                            name,
                            state: "starter".into(),
                            size: 0,
                            digest: None,
                        });
                    }
                    return ResponseTemplate::new(502).set_body_string("Bad Gateway");
                }
            }
        }
        let prefix = format!("/repos/{REPO}");
        let upload_prefix = format!("/uploads/repos/{REPO}");
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        if let Some(rest) = path.strip_prefix(&upload_prefix) {
            let release_id: u64 = rest
                .trim_start_matches("/releases/")
                .trim_end_matches("/assets")
                .parse()
                .unwrap_or(0);
            let name = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let declared: Option<usize> = request
                .headers
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            if declared != Some(request.body.len()) {
                return ResponseTemplate::new(400)
                    .set_body_json(json!({"message": "Content-Length is required and must match"}));
            }
            let digest = format!(
                "sha256:{}",
                Sha256::digest(&request.body)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            );
            let id = state.id();
            let Some(release) = state.releases.iter_mut().find(|r| r.id == release_id) else {
                return not_found();
            };
            if release.assets.iter().any(|a| a.name == name) {
                return already_exists("ReleaseAsset");
            }
            let asset = FakeAsset {
                content: (request.body.len() < 1 << 20).then(|| request.body.clone()),
                id,
                name,
                state: "uploaded".into(),
                size: request.body.len() as u64,
                digest: Some(digest),
            };
            release.assets.push(asset.clone());
            let json = state.asset_json(&asset);
            return ResponseTemplate::new(201).set_body_json(json);
        }
        let Some(rest) = path.strip_prefix(&prefix) else {
            state.unexpected.push(format!("{method} {path}"));
            return ResponseTemplate::new(501);
        };
        // GitHub decodes the path: a tag `@scope/name@1.0.0` arrives as `%40scope%2Fname%401.0.0`.
        let rest = percent_encoding::percent_decode_str(rest)
            .decode_utf8_lossy()
            .into_owned();
        match (method.as_str(), rest.as_str()) {
            ("GET", "/releases") => {
                let list: Vec<Value> = state.releases.iter().rev().map(|r| state.release_json(r)).collect();
                paged(request, &state.base, list)
            }
            ("GET", "/releases/latest") => match state.latest.and_then(|id| state.releases.iter().find(|r| r.id == id))
            {
                Some(r) => ResponseTemplate::new(200).set_body_json(state.release_json(r)),
                None => not_found(),
            },
            ("POST", "/releases") => {
                let tag = body["tag_name"].as_str().unwrap_or_default().to_string();
                if state.releases.iter().any(|r| r.tag == tag && !r.draft) {
                    return already_exists("Release");
                }
                let id = state.id();
                let release = FakeRelease {
                    id,
                    tag,
                    draft: body["draft"].as_bool().unwrap_or(false),
                    prerelease: body["prerelease"].as_bool().unwrap_or(false),
                    body: body["body"].as_str().unwrap_or_default().to_string(),
                    assets: vec![],
                };
                state.releases.push(release.clone());
                ResponseTemplate::new(201).set_body_json(state.release_json(&release))
            }
            ("POST", "/git/refs") => {
                // Branches, tags and other refs (the lock) each in their own map, as git keeps them.
                let full = body["ref"].as_str().unwrap_or_default().to_string();
                let sha = body["sha"].as_str().unwrap_or_default().to_string();
                let (refs, name) = if let Some(branch) = full.strip_prefix("refs/heads/") {
                    (&mut state.branches, branch)
                } else if let Some(tag) = full.strip_prefix("refs/tags/") {
                    (&mut state.tags, tag)
                } else {
                    (&mut state.refs, full.trim_start_matches("refs/"))
                };
                if refs.contains_key(name) {
                    return already_exists("Reference");
                }
                refs.insert(name.to_string(), sha);
                ResponseTemplate::new(201).set_body_json(json!({"ref": full}))
            }
            ("GET", "/deployments") => {
                let wanted = request.url.query_pairs().find(|(k, _)| k == "ref").map(|(_, v)| v.into_owned());
                let list: Vec<Value> = state
                    .deployments
                    .iter()
                    .rev()
                    .filter(|d| wanted.as_ref().is_none_or(|w| *w == d.reference))
                    .map(|d| json!({"id": d.id, "ref": d.reference, "environment": d.environment}))
                    .collect();
                paged(request, &state.base, list)
            }
            ("POST", "/git/tags") => {
                let sha = sha1_hex(body.to_string().as_bytes());
                let object = json!({"sha": sha, "tag": body["tag"], "message": body["message"], "tagger": body["tagger"], "object": {"sha": body["object"], "type": body["type"]}});
                state.tag_objects.insert(sha, object.clone());
                ResponseTemplate::new(201).set_body_json(object)
            }
            (m, r) if m == "GET" && r.starts_with("/git/tags/") => {
                match state.tag_objects.get(r.trim_start_matches("/git/tags/")) {
                    Some(object) => ResponseTemplate::new(200).set_body_json(object.clone()),
                    None => not_found(),
                }
            }
            (m, r) if m == "GET" && r.starts_with("/deployments/") && r.ends_with("/statuses") => {
                let id: u64 = r
                    .trim_start_matches("/deployments/")
                    .trim_end_matches("/statuses")
                    .parse()
                    .unwrap_or(0);
                match state.deployments.iter().find(|d| d.id == id) {
                    Some(d) => {
                        let list = d.statuses.iter().rev().map(|s| json!({"state": s})).collect();
                        paged(request, &state.base, list)
                    }
                    None => not_found(),
                }
            }
            (m, r) if r.starts_with("/git/refs/tags/") && (m == "PATCH" || m == "DELETE") => {
                let tag = r.trim_start_matches("/git/refs/tags/").to_string();
                if !state.tags.contains_key(&tag) {
                    return ResponseTemplate::new(422).set_body_json(json!({"message": "Reference does not exist"}));
                }
                if m == "DELETE" {
                    state.tags.remove(&tag);
                    return ResponseTemplate::new(204);
                }
                if body["force"] != json!(true) {
                    return ResponseTemplate::new(422).set_body_json(json!({"message": "Update is not a fast forward"}));
                }
                state.tags.insert(tag, body["sha"].as_str().unwrap_or_default().to_string());
                ResponseTemplate::new(200).set_body_json(json!({"object": {"sha": body["sha"]}}))
            }
            (m, r) if m == "DELETE" && r.starts_with("/git/refs/") && !r.starts_with("/git/refs/heads/") => {
                match state.refs.remove(r.trim_start_matches("/git/refs/")) {
                    Some(_) => ResponseTemplate::new(204),
                    None => ResponseTemplate::new(422).set_body_json(json!({"message": "Reference does not exist"})),
                }
            }
            (m, r) if m == "GET"
                && r.starts_with("/git/ref/")
                && !r.starts_with("/git/ref/heads/")
                && !r.starts_with("/git/ref/tags/") =>
            {
                match state.refs.get(r.trim_start_matches("/git/ref/")) {
                    Some(sha) => ResponseTemplate::new(200).set_body_json(
                        json!({"ref": format!("refs/{}", r.trim_start_matches("/git/ref/")), "object": {"sha": sha, "type": "tag"}}),
                    ),
                    None => not_found(),
                }
            }
            ("POST", "/git/blobs") => {
                let bytes = base64_decode(body["content"].as_str().unwrap_or_default());
                let mut header = format!("blob {}\0", bytes.len()).into_bytes();
                header.extend_from_slice(&bytes);
                let sha = sha1_hex(&header);
                state.blobs.insert(sha.clone(), bytes);
                ResponseTemplate::new(201).set_body_json(json!({"sha": sha}))
            }
            ("POST", "/git/trees") => {
                let entries: Vec<(String, String)> = body["tree"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        (
                            e["path"].as_str().unwrap_or_default().to_string(),
                            e["sha"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                if let Some((path, _)) = entries.iter().find(|(_, sha)| !state.blobs.contains_key(sha)) {
                    return ResponseTemplate::new(422)
                        .set_body_json(json!({"message": format!("tree entry {path} names an unknown blob")}));
                }
                // With a base_tree (a tree of the test's local repository, unknown here) the
                // entries replace files of that base; the fake keeps only the entries.
                let sha = sha1_hex(format!("{}{entries:?}", body["base_tree"]).as_bytes());
                state.trees.insert(sha.clone(), entries);
                ResponseTemplate::new(201).set_body_json(json!({"sha": sha}))
            }
            ("POST", "/git/commits") => {
                let tree = body["tree"].as_str().unwrap_or_default().to_string();
                let parents: Vec<String> = body["parents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect();
                let sha = sha1_hex(format!("{tree}{parents:?}{}", body["message"]).as_bytes());
                state.commits.insert(sha.clone(), (tree, parents));
                state
                    .commit_messages
                    .insert(sha.clone(), body["message"].as_str().unwrap_or_default().to_string());
                ResponseTemplate::new(201).set_body_json(json!({"sha": sha}))
            }
            ("POST", "/deployments") => {
                if body["auto_merge"] != json!(false) || body["required_contexts"] != json!([]) {
                    return ResponseTemplate::new(409)
                        .set_body_json(json!({"message": "Conflict: send auto_merge false and required_contexts []"}));
                }
                let id = state.id();
                state.deployments.push(FakeDeployment {
                    id,
                    reference: body["ref"].as_str().unwrap_or_default().into(),
                    environment: body["environment"].as_str().unwrap_or_default().into(),
                    statuses: vec![],
                    descriptions: vec![],
                });
                ResponseTemplate::new(201).set_body_json(json!({"id": id}))
            }
            (m, r) if m == "POST" && r.starts_with("/deployments/") && r.ends_with("/statuses") => {
                let id: u64 = r
                    .trim_start_matches("/deployments/")
                    .trim_end_matches("/statuses")
                    .parse()
                    .unwrap_or(0);
                let Some(deployment) = state.deployments.iter_mut().find(|d| d.id == id) else {
                    return not_found();
                };
                let new_state = body["state"].as_str().unwrap_or_default().to_string();
                deployment.statuses.push(new_state.clone());
                deployment
                    .descriptions
                    .push(body["description"].as_str().unwrap_or_default().to_string());
                let environment = deployment.environment.clone();
                // As GitHub does (auto_inactive): a success makes the environment's other
                // successful deployments inactive.
                if new_state == "success" && body["auto_inactive"] != json!(false) {
                    for other in state.deployments.iter_mut().filter(|d| d.id != id && d.environment == environment) {
                        if other.statuses.last().map(String::as_str) == Some("success") {
                            other.statuses.push("inactive".into());
                        }
                    }
                }
                ResponseTemplate::new(201).set_body_json(json!({"state": body["state"]}))
            }
            (m, r) if m == "GET" && r.starts_with("/git/commits/") => {
                let sha = r.trim_start_matches("/git/commits/");
                match state.commits.get(sha) {
                    Some((tree, parents)) => ResponseTemplate::new(200).set_body_json(json!({
                        "sha": sha, "tree": {"sha": tree},
                        "message": state.commit_messages.get(sha).cloned().unwrap_or_default(),
                        "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
                    })),
                    None => not_found(),
                }
            }
            (m, r) if m == "GET" && r.starts_with("/git/trees/") => {
                let sha = r.trim_start_matches("/git/trees/");
                match state.trees.get(sha) {
                    Some(entries) => ResponseTemplate::new(200).set_body_json(json!({"sha": sha, "tree": entries.iter().map(|(p, s)| json!({"path": p, "type": "blob", "mode": "100644", "sha": s})).collect::<Vec<_>>()})),
                    None => not_found(),
                }
            }
            (m, r) if m == "GET" && r.starts_with("/git/ref/heads/") => {
                let branch = r.trim_start_matches("/git/ref/heads/");
                match state.branches.get(branch) {
                    Some(sha) => ResponseTemplate::new(200).set_body_json(
                        json!({"ref": format!("refs/heads/{branch}"), "object": {"sha": sha, "type": "commit"}}),
                    ),
                    None => not_found(),
                }
            }
            (m, r) if r.starts_with("/git/refs/heads/") && (m == "PATCH" || m == "DELETE") => {
                let branch = r.trim_start_matches("/git/refs/heads/").to_string();
                if m == "DELETE" {
                    state.branches.remove(&branch);
                    return ResponseTemplate::new(204);
                }
                let new = body["sha"].as_str().unwrap_or_default().to_string();
                let current = state.branches.get(&branch).cloned();
                let fast_forward = current
                    .as_ref()
                    .is_none_or(|c| state.commits.get(&new).is_some_and(|(_, parents)| parents.contains(c)));
                if !fast_forward && body["force"] != json!(true) {
                    return ResponseTemplate::new(422)
                        .set_body_json(json!({"message": "Update is not a fast forward"}));
                }
                state.branches.insert(branch, new);
                ResponseTemplate::new(200).set_body_json(json!({"object": {"sha": body["sha"]}}))
            }
            (m, r) if r.starts_with("/releases/tags/") && m == "GET" => {
                let tag = r.trim_start_matches("/releases/tags/");
                match state.releases.iter().find(|x| x.tag == tag && !x.draft) {
                    Some(x) => ResponseTemplate::new(200).set_body_json(state.release_json(x)),
                    None => not_found(),
                }
            }
            (m, r) if r.starts_with("/git/ref/tags/") && m == "GET" => {
                let tag = r.trim_start_matches("/git/ref/tags/");
                match state.tags.get(tag) {
                    Some(sha) => ResponseTemplate::new(200).set_body_json(
                        json!({"ref": format!("refs/tags/{tag}"), "object": {"sha": sha, "type": "commit"}}),
                    ),
                    None => not_found(),
                }
            }
            (m, r) if r.starts_with("/releases/assets/") && m == "GET" => {
                let id: u64 = r.trim_start_matches("/releases/assets/").parse().unwrap_or(0);
                let content = state
                    .releases
                    .iter()
                    .flat_map(|x| &x.assets)
                    .find(|a| a.id == id)
                    .and_then(|a| a.content.clone());
                match content {
                    Some(bytes) => ResponseTemplate::new(200)
                        .insert_header("content-type", "application/octet-stream")
                        .set_body_bytes(bytes),
                    None => not_found(),
                }
            }
            (m, r) if r.starts_with("/releases/assets/") && m == "DELETE" => {
                let id: u64 = r.trim_start_matches("/releases/assets/").parse().unwrap_or(0);
                for release in &mut state.releases {
                    release.assets.retain(|a| a.id != id);
                }
                ResponseTemplate::new(204)
            }
            (m, r) if r.ends_with("/assets") && m == "GET" => {
                let id: u64 = r
                    .trim_start_matches("/releases/")
                    .trim_end_matches("/assets")
                    .parse()
                    .unwrap_or(0);
                match state.releases.iter().find(|x| x.id == id) {
                    Some(x) => paged(request, &state.base, x.assets.iter().map(|a| state.asset_json(a)).collect()),
                    None => not_found(),
                }
            }
            (m, r) if r.starts_with("/releases/") && (m == "PATCH" || m == "DELETE") => {
                let id: u64 = r.trim_start_matches("/releases/").parse().unwrap_or(0);
                if m == "DELETE" {
                    state.releases.retain(|x| x.id != id);
                    return ResponseTemplate::new(204);
                }
                let Some(index) = state.releases.iter().position(|x| x.id == id) else {
                    return not_found();
                };
                let release = &mut state.releases[index];
                if let Some(b) = body["body"].as_str() {
                    release.body = b.to_string();
                }
                if let Some(p) = body["prerelease"].as_bool() {
                    release.prerelease = p;
                }
                if let Some(d) = body["draft"].as_bool() {
                    release.draft = d;
                }
                let latest = body["make_latest"].as_str() == Some("true") && !release.draft && !release.prerelease;
                let release = release.clone();
                if latest {
                    state.latest = Some(id);
                }
                ResponseTemplate::new(200).set_body_json(state.release_json(&release))
            }
            _ => {
                state.unexpected.push(format!("{method} {path}"));
                ResponseTemplate::new(501)
            }
        }
    }
}

/// A running fake.
pub struct FakeGitHub {
    pub state: Arc<Mutex<State>>,
    pub uri: String,
    _http: crate::support::mock::MockHttp,
}

impl FakeGitHub {
    pub fn start() -> FakeGitHub {
        // The fake keeps its own state and log; wiremock's copy of every body would double the
        // memory a gigabyte upload takes.
        let http = crate::support::mock::MockHttp::start_unrecorded();
        let state = Arc::new(Mutex::new(State::default()));
        http.mount(Mock::given(wiremock::matchers::any()).respond_with(Router(state.clone())));
        let uri = http.uri();
        state.lock().unwrap().base = uri.clone();
        FakeGitHub {
            state,
            uri,
            _http: http,
        }
    }

    /// `tamma-release release ARGS` in `dir`, pointed at this fake with the right token.
    pub fn release(&self, dir: &std::path::Path, args: &[&str]) -> std::process::Command {
        let mut all = vec!["release"];
        all.extend_from_slice(args);
        self.command(dir, &all)
    }

    /// `tamma-release ARGS` in `dir`, pointed at this fake with the right token.
    pub fn command(&self, dir: &std::path::Path, args: &[&str]) -> std::process::Command {
        let mut cmd = crate::support::tamma(args);
        cmd.current_dir(dir)
            .env("GITHUB_API_URL", &self.uri)
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_TOKEN", TOKEN);
        cmd
    }

    /// `tamma-release action` as the runner starts this repository's action against this fake:
    /// every declared input at its action.yml default unless `inputs` names it (github-token is
    /// the fake's), `GITHUB_*` for an `event_name` event on `git_ref` with `event` as its
    /// payload. Returns the process output, the `$GITHUB_OUTPUT` file and the job summary.
    pub fn action(
        &self,
        workspace: &std::path::Path,
        event_name: &str,
        git_ref: &str,
        event: &Value,
        inputs: &[(&str, &str)],
    ) -> (std::process::Output, String, String) {
        self.action_with_env(workspace, event_name, git_ref, event, inputs, &[])
    }

    /// [`FakeGitHub::action`] with more variables in the step's environment (the runner's OIDC
    /// endpoint, `GITHUB_WORKFLOW_REF`…).
    pub fn action_with_env(
        &self,
        workspace: &std::path::Path,
        event_name: &str,
        git_ref: &str,
        event: &Value,
        inputs: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> (std::process::Output, String, String) {
        let files = tempfile::tempdir().unwrap();
        let path = |name: &str| files.path().join(name);
        std::fs::write(path("event.json"), event.to_string()).unwrap();
        std::fs::write(path("output"), "").unwrap();
        std::fs::write(path("summary"), "").unwrap();
        let mut cmd = crate::support::tamma(&["action"]);
        for input in tamma_release::action::spec::INPUTS {
            let given = inputs.iter().find(|(name, _)| *name == input.name).map(|(_, v)| *v);
            let value = match input.name {
                "github-token" => given.unwrap_or(TOKEN),
                _ => given.unwrap_or(input.default),
            };
            cmd.env(format!("INPUT_{}", input.name.to_uppercase()), value);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let out = cmd
            .current_dir(files.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_EVENT_PATH", path("event.json"))
            .env("GITHUB_REF", git_ref)
            .env("GITHUB_OUTPUT", path("output"))
            .env("GITHUB_STEP_SUMMARY", path("summary"))
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", &self.uri)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_RUN_ID", "7")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .output()
            .unwrap();
        (
            out,
            std::fs::read_to_string(path("output")).unwrap(),
            std::fs::read_to_string(path("summary")).unwrap(),
        )
    }

    /// Makes the next request matching `fault` go wrong, `times` times over.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.with(|s| s.faults.extend(std::iter::repeat_n(fault, times)));
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}
