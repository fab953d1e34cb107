//! The schema asked of the server's reflection service: v1, else v1alpha
//! (the same messages on another path). One bidirectional stream: list the
//! services, fetch the file declaring the called one, then every file it
//! imports that the answers did not already carry.
//! (Several services: a scenario's steps may call more than one.)

use std::collections::HashSet;

use prost::Message as _;
use prost_reflect::DescriptorPool;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_prost::ProstCodec;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

use crate::schema::no_such_service;

const PATHS: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The descriptors of `services` and everything they import, from the
/// server at `shown_url`. Errors are one line for the user.
pub async fn fetch(
    channel: Channel,
    services: &[String],
    shown_url: &str,
) -> Result<DescriptorPool, String> {
    for path in PATHS {
        match Session::open(channel.clone(), path).await {
            Ok(mut session) => return session.schema(services).await,
            Err(status) if status.code() == Code::Unimplemented => continue,
            Err(status) => return Err(format!("reflection at {shown_url}: {}", shown(&status))),
        }
    }
    Err(format!(
        "the server at {shown_url} has no reflection service (v1 or v1alpha): give its schema with -o proto=FILE or -o protoset=FILE"
    ))
}

fn shown(status: &Status) -> String {
    let message = status.message().replace('\n', " ");
    format!("{:?}: {message}", status.code())
}

/// One reflection stream: a request, then its answer, in turn.
struct Session {
    requests: mpsc::Sender<ServerReflectionRequest>,
    answers: tonic::Streaming<ServerReflectionResponse>,
}

impl Session {
    /// Opens the stream with a `ListServices` (a server without the service
    /// answers UNIMPLEMENTED here).
    async fn open(channel: Channel, path: &'static str) -> Result<Session, Status> {
        let (requests, outgoing) = mpsc::channel(4);
        let list = request(MessageRequest::ListServices(String::new()));
        // The receiver is alive: this cannot fail.
        let _ = requests.send(list).await;
        let mut grpc = Grpc::new(channel);
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let response = grpc
            .streaming(
                tonic::Request::new(ReceiverStream::new(outgoing)),
                PathAndQuery::from_static(path),
                ProstCodec::<ServerReflectionRequest, ServerReflectionResponse>::default(),
            )
            .await?;
        Ok(Session {
            requests,
            answers: response.into_inner(),
        })
    }

    async fn next(&mut self) -> Result<MessageResponse, String> {
        match self.answers.message().await {
            Ok(Some(ServerReflectionResponse {
                message_response: Some(MessageResponse::ErrorResponse(e)),
                ..
            })) => Err(format!(
                "{:?}: {}",
                Code::from_i32(e.error_code),
                e.error_message
            )),
            Ok(Some(ServerReflectionResponse {
                message_response: Some(answer),
                ..
            })) => Ok(answer),
            Ok(_) => Err("the reflection stream ended early".into()),
            Err(status) => Err(shown(&status)),
        }
    }

    async fn ask(&mut self, what: MessageRequest) -> Result<MessageResponse, String> {
        self.requests
            .send(request(what))
            .await
            .map_err(|_| "the reflection stream closed".to_string())?;
        self.next().await
    }

    async fn schema(&mut self, wanted_services: &[String]) -> Result<DescriptorPool, String> {
        let services: Vec<String> = match self.next().await {
            Ok(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect()
            }
            Ok(_) => return Err("reflection: unexpected answer to ListServices".into()),
            Err(e) => return Err(format!("reflection: {e}")),
        };
        if let Some(missing) = wanted_services.iter().find(|s| !services.contains(s)) {
            return Err(no_such_service(missing, services.into_iter()));
        }
        // Well-known types are known already; servers often do not serve them.
        let mut pool = DescriptorPool::global();
        let mut files = Vec::new();
        let mut seen = HashSet::new();
        // Each file is asked for once, whatever the answers carry.
        let mut asked = HashSet::new();
        let mut wanted: Vec<MessageRequest> = wanted_services
            .iter()
            .map(|s| MessageRequest::FileContainingSymbol(s.clone()))
            .collect();
        while let Some(what) = wanted.pop() {
            let answer = self
                .ask(what)
                .await
                .map_err(|e| format!("reflection: {e}"))?;
            let MessageResponse::FileDescriptorResponse(answer) = answer else {
                return Err("reflection: unexpected answer to a file request".into());
            };
            for bytes in answer.file_descriptor_proto {
                let file = prost_types::FileDescriptorProto::decode(bytes.as_slice())
                    .map_err(|e| format!("reflection: a file descriptor does not decode ({e})"))?;
                if !seen.insert(file.name().to_string()) {
                    continue;
                }
                files.push(file);
            }
            let dependencies: Vec<String> =
                files.iter().flat_map(|f| f.dependency.clone()).collect();
            for dependency in &dependencies {
                let known =
                    seen.contains(dependency) || pool.get_file_by_name(dependency).is_some();
                if !known && asked.insert(dependency.clone()) {
                    wanted.push(MessageRequest::FileByFilename(dependency.clone()));
                }
            }
        }
        pool.add_file_descriptor_protos(files).map_err(|e| {
            let text = format!("{e}").replace('\n', " ");
            format!("reflection: the server's descriptors do not load: {text}")
        })?;
        Ok(pool)
    }
}

fn request(what: MessageRequest) -> ServerReflectionRequest {
    ServerReflectionRequest {
        host: String::new(),
        message_request: Some(what),
    }
}
