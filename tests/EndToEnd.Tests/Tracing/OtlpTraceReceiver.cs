using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests.Tracing;

/// <summary>One span as a process exported it over OTLP; ids in lower-case hex, kind as OTLP numbers it (2 server .. 5 consumer).</summary>
public sealed record ExportedSpan(string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind)
{
    public const int Server = 2;
    public const int Client = 3;
    public const int Producer = 4;
    public const int Consumer = 5;

    public override string ToString() => $"{Service} {Scope} kind={Kind} '{Name}' {SpanId} <- {ParentSpanId}";
}

/// <summary>
/// A stand-in OpenTelemetry collector: accepts OTLP/HTTP protobuf exports (POST /v1/traces) on a loopback port and
/// decodes the spans (the few fields of ExportTraceServiceRequest the tests read, straight from the protobuf wire format).
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly Task _loop;

    private OtlpTraceReceiver(Uri address)
    {
        Address = address;
        _listener.Prefixes.Add(address.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The base address to give exporters (http://127.0.0.1:port/).</summary>
    public Uri Address { get; }

    public IReadOnlyList<ExportedSpan> Spans => _spans.ToList();

    /// <summary>Requests that were not a decodable OTLP trace export: a test fails on any.</summary>
    public IReadOnlyList<string> Errors => _errors.ToList();

    public static OtlpTraceReceiver Start() => new(new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}/"));

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            try
            {
                if (context.Request.HttpMethod != "POST" || context.Request.Url?.AbsolutePath != "/v1/traces")
                {
                    _errors.Enqueue($"{context.Request.HttpMethod} {context.Request.Url}");
                    context.Response.StatusCode = 404;
                    continue;
                }
                using var body = new MemoryStream();
                var input = context.Request.Headers["Content-Encoding"] == "gzip"
                    ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress)
                    : context.Request.InputStream;
                await input.CopyToAsync(body);
                foreach (var span in Decode(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
            catch (Exception e) when (e is FormatException or IOException or HttpListenerException)
            {
                _errors.Enqueue(e.ToString());
                context.Response.StatusCode = 400;
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    /// <summary>ExportTraceServiceRequest: resource_spans(1) { resource(1) { attributes(1) }, scope_spans(2) { scope(1) { name(1) }, spans(2) } }.</summary>
    private static List<ExportedSpan> Decode(byte[] request)
    {
        var spans = new List<ExportedSpan>();
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            var service = "";
            foreach (var field in Fields(resourceSpans.Bytes))
            {
                if (field.Number == 1)
                {
                    foreach (var attribute in Fields(field.Bytes).Where(a => a.Number == 1))
                    {
                        var parts = Fields(attribute.Bytes).ToList();
                        var key = Text(parts.FirstOrDefault(p => p.Number == 1).Bytes);
                        var value = parts.FirstOrDefault(p => p.Number == 2).Bytes;
                        if (key == "service.name" && value is not null)
                        {
                            service = Text(Fields(value).FirstOrDefault(v => v.Number == 1).Bytes);
                        }
                    }
                }
            }
            foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                var scopeFields = Fields(scopeSpans.Bytes).ToList();
                var scopeMessage = scopeFields.FirstOrDefault(f => f.Number == 1).Bytes;
                var scope = scopeMessage is null ? "" : Text(Fields(scopeMessage).FirstOrDefault(f => f.Number == 1).Bytes);
                foreach (var span in scopeFields.Where(f => f.Number == 2))
                {
                    var s = Fields(span.Bytes).ToList();
                    spans.Add(new ExportedSpan(service, scope,
                        Hex(s.FirstOrDefault(f => f.Number == 1).Bytes),
                        Hex(s.FirstOrDefault(f => f.Number == 2).Bytes),
                        Hex(s.FirstOrDefault(f => f.Number == 4).Bytes),
                        Text(s.FirstOrDefault(f => f.Number == 5).Bytes),
                        (int)s.FirstOrDefault(f => f.Number == 6).Varint));
                }
            }
        }
        return spans;
    }

    private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

    private readonly record struct Field(int Number, ulong Varint, byte[]? Bytes);

    /// <summary>The fields of one protobuf message, in order (varints and length-delimited values; fixed ones skipped).</summary>
    private static List<Field> Fields(byte[]? message)
    {
        var fields = new List<Field>();
        if (message is null)
        {
            return fields;
        }
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    fields.Add(new Field(number, ReadVarint(message, ref position), null));
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    if (length < 0 || position + length > message.Length)
                    {
                        throw new FormatException("length-delimited field runs past the message");
                    }
                    fields.Add(new Field(number, 0, message[position..(position + length)]));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new FormatException($"unsupported protobuf wire type {tag & 7}");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= buffer.Length)
            {
                throw new FormatException("truncated varint");
            }
            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new FormatException("varint longer than 64 bits");
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
