// Command go-echo is a Linktor channel adapter written in Go with HashiCorp go-plugin: the
// proof that adapters can be written in any language that speaks gRPC.
//
// It "sends" text messages by echoing them (the provider message id is "echo-" + the
// message id), validates that secrets.api_key is set, and parses a small signed webhook:
//
//	POST, header X-Echo-Signature: sha256=<hex HMAC-SHA256 of the body, key secrets.webhook_secret>
//	{"id": "e1", "from": "+15550001", "text": "hello"}
//
// Build: go build -o go-echo . ; the Linktor server starts it with
// LINKTOR_ADAPTER_COMMANDS='{"sms": "/path/to/go-echo"}'. Check it with
// linktor adapter-conformance -- /path/to/go-echo
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	adapterv1 "github.com/linktor/linktor/gen/go/linktor/adapter/v1"
	linktorv1 "github.com/linktor/linktor/gen/go/linktor/v1"
)

// Handshake is Linktor's go-plugin handshake (linktor.adapterkit.protocol in Python).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "LINKTOR_PLUGIN",
	MagicCookieValue: "e1176770-ad1c-410a-b742-2d6201f3ff19",
}

// echoAdapter implements linktor.adapter.v1.ChannelAdapter.
type echoAdapter struct {
	adapterv1.UnimplementedChannelAdapterServer
	log hclog.Logger
}

func (a *echoAdapter) GetCapabilities(context.Context, *adapterv1.GetCapabilitiesRequest) (*adapterv1.GetCapabilitiesResponse, error) {
	return &adapterv1.GetCapabilitiesResponse{
		ChannelType:    linktorv1.ChannelType_CHANNEL_TYPE_SMS,
		AdapterName:    "go-echo",
		AdapterVersion: "0.1.0",
		Capabilities: &linktorv1.ChannelCapabilities{
			ContentKinds:  []linktorv1.ContentKind{linktorv1.ContentKind_CONTENT_KIND_TEXT},
			MaxTextLength: 1600,
		},
		ConfigFields: []*adapterv1.ConfigField{
			{Key: "api_key", Secret: true, Required: true, Description: "any non-empty value"},
			{Key: "webhook_secret", Secret: true, Description: "HMAC key of X-Echo-Signature"},
		},
	}, nil
}

func (a *echoAdapter) ValidateConfig(_ context.Context, req *adapterv1.ValidateConfigRequest) (*adapterv1.ValidateConfigResponse, error) {
	resp := &adapterv1.ValidateConfigResponse{}
	if strings.TrimSpace(req.GetChannel().GetSecrets()["api_key"]) == "" {
		resp.Violations = append(resp.Violations, &errdetails.BadRequest_FieldViolation{
			Field: "secrets.api_key", Description: "is required",
		})
	}
	for key := range req.GetChannel().GetConfig().GetFields() {
		resp.Violations = append(resp.Violations, &errdetails.BadRequest_FieldViolation{
			Field: "config." + key, Description: "is not a known setting of this channel type",
		})
	}
	return resp, nil
}

func sendError(code, message string, retryable bool) *adapterv1.SendError {
	return &adapterv1.SendError{Error: &linktorv1.MessageError{Code: code, Message: message, Retryable: retryable}}
}

func (a *echoAdapter) Send(_ context.Context, req *adapterv1.SendRequest) (*adapterv1.SendResponse, error) {
	text := req.GetContent().GetText()
	switch {
	case text == nil:
		return &adapterv1.SendResponse{Error: sendError("CONTENT_NOT_SUPPORTED", "go-echo sends text only", false)}, nil
	case strings.TrimSpace(req.GetRecipient()) == "":
		return &adapterv1.SendResponse{Error: sendError("INVALID_RECIPIENT", "the recipient is empty", false)}, nil
	case req.GetChannel().GetSecrets()["api_key"] == "":
		return &adapterv1.SendResponse{Error: sendError("INVALID_CONFIG", "secrets.api_key is not set", false)}, nil
	}
	a.log.Info("echoing", "message_id", req.GetMessageId(), "attempt", req.GetAttempt())
	// After plugin.Serve, stdout goes to the host through go-plugin's GRPCStdio stream.
	fmt.Printf("echo %s: %s\n", req.GetMessageId(), text.GetBody())
	return &adapterv1.SendResponse{
		ProviderMessageId: "echo-" + req.GetMessageId(),
		Status:            linktorv1.MessageStatus_MESSAGE_STATUS_SENT,
	}, nil
}

func reply(status int32, body string, authenticated bool) *adapterv1.HandleWebhookResponse {
	return &adapterv1.HandleWebhookResponse{
		Response:      &adapterv1.HttpResponse{Status: status, Body: []byte(body)},
		Authenticated: authenticated,
	}
}

func header(req *adapterv1.HttpRequest, name string) string {
	for _, h := range req.GetHeaders() {
		if strings.EqualFold(h.GetName(), name) {
			return h.GetValue()
		}
	}
	return ""
}

func (a *echoAdapter) HandleWebhook(_ context.Context, req *adapterv1.HandleWebhookRequest) (*adapterv1.HandleWebhookResponse, error) {
	http := req.GetRequest()
	secret := req.GetChannel().GetSecrets()["webhook_secret"]
	given, err := hex.DecodeString(strings.TrimPrefix(header(http, "x-echo-signature"), "sha256="))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(http.GetBody())
	if secret == "" || err != nil || !hmac.Equal(given, mac.Sum(nil)) {
		return reply(401, "bad signature", false), nil
	}
	var payload struct{ ID, From, Text string }
	if err := json.Unmarshal(http.GetBody(), &payload); err != nil || payload.ID == "" || payload.From == "" {
		return reply(400, "expected {\"id\", \"from\", \"text\"}", true), nil
	}
	resp := reply(200, "ok", true)
	resp.Events = []*adapterv1.InboundEvent{{Kind: &adapterv1.InboundEvent_Message{Message: &adapterv1.InboundMessage{
		ProviderMessageId: payload.ID,
		Sender:            payload.From,
		Content:           &linktorv1.MessageContent{Kind: &linktorv1.MessageContent_Text{Text: &linktorv1.TextContent{Body: payload.Text}}},
	}}}}
	return resp, nil
}

func (a *echoAdapter) UploadMedia(stream adapterv1.ChannelAdapter_UploadMediaServer) error {
	for {
		if _, err := stream.Recv(); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	return stream.SendAndClose(&adapterv1.UploadMediaResponse{Error: sendError("NOT_SUPPORTED", "go-echo has no media", false)})
}

func (a *echoAdapter) DownloadMedia(*adapterv1.DownloadMediaRequest, adapterv1.ChannelAdapter_DownloadMediaServer) error {
	return status.Error(codes.Unimplemented, "go-echo has no media to download")
}

func (a *echoAdapter) MarkRead(context.Context, *adapterv1.MarkReadRequest) (*adapterv1.MarkReadResponse, error) {
	return &adapterv1.MarkReadResponse{Error: sendError("NOT_SUPPORTED", "read receipts are not supported", false)}, nil
}

func (a *echoAdapter) SendTyping(context.Context, *adapterv1.SendTypingRequest) (*adapterv1.SendTypingResponse, error) {
	return &adapterv1.SendTypingResponse{Error: sendError("NOT_SUPPORTED", "typing indicators are not supported", false)}, nil
}

func (a *echoAdapter) CheckChannel(ctx context.Context, req *adapterv1.CheckChannelRequest) (*adapterv1.CheckChannelResponse, error) {
	validation, _ := a.ValidateConfig(ctx, &adapterv1.ValidateConfigRequest{Channel: req.GetChannel()})
	if len(validation.GetViolations()) > 0 {
		v := validation.GetViolations()[0]
		return &adapterv1.CheckChannelResponse{Ok: false, Message: v.GetField() + ": " + v.GetDescription(), Latency: durationpb.New(0)}, nil
	}
	return &adapterv1.CheckChannelResponse{Ok: true, Message: "echo is always reachable", Latency: durationpb.New(0)}, nil
}

func (a *echoAdapter) ListTemplates(context.Context, *adapterv1.ListTemplatesRequest) (*adapterv1.ListTemplatesResponse, error) {
	return &adapterv1.ListTemplatesResponse{}, nil
}

// channelAdapterPlugin plugs the service into go-plugin's gRPC server.
type channelAdapterPlugin struct {
	plugin.Plugin
	impl adapterv1.ChannelAdapterServer
}

func (p *channelAdapterPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	adapterv1.RegisterChannelAdapterServer(s, p.impl)
	return nil
}

func (p *channelAdapterPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return adapterv1.NewChannelAdapterClient(c), nil
}

func main() {
	// JSON lines on stderr in go-hclog's format: the Linktor host turns them into structured logs.
	logger := hclog.New(&hclog.LoggerOptions{Name: "go-echo", Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{"channel_adapter": &channelAdapterPlugin{impl: &echoAdapter{log: logger}}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
}
