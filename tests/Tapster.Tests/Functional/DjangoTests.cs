using System.Net;
using System.Text.RegularExpressions;

namespace Tapster.Tests.Functional;

/// <summary>
/// A real Django project (testassets/djangosite, Debian's python3-django) served by its directory, as
/// a user would run <c>tapster serve</c> in the folder that holds manage.py.
/// </summary>
[Collection(FunctionalGroup.Name)]
public partial class DjangoTests(DjangoTests.DjangoServer shared) : IClassFixture<DjangoTests.DjangoServer>
{
    public sealed class DjangoServer() : ServerFixture("djangosite", null, "--workers", "1", "--threads", "2");

    TapsterServer Server => shared.Server;

    [Fact]
    public async Task A_Django_project_directory_is_served_through_the_wsgi_py_its_manage_py_names()
    {
        Assert.Equal("django hello", await Server.Client.GetTextAsync("/"));
        Assert.Contains(Server.StdoutLines, l => l.Contains("djangosite.wsgi:application", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_wsgi_py_inside_the_project_package_is_served_as_that_package_s_module()
    {
        await using var server = await TapsterServer.StartAsync("djangosite/djangosite/wsgi.py", "--workers", "1");
        Assert.Equal("django hello", await server.Client.GetTextAsync("/"));
        Assert.Contains(server.StdoutLines, l => l.Contains("djangosite.wsgi", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_Django_form_posts_back_with_its_CSRF_token_and_is_refused_without_it()
    {
        using var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }) { BaseAddress = Server.BaseAddress };
        var page = await client.GetStringAsync("/form");
        var token = CsrfToken().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);

        using var accepted = await client.PostAsync("/form", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrfmiddlewaretoken"] = token, ["name"] = "Ada" }));
        Assert.Equal("thanks, Ada", await accepted.Content.ReadAsStringAsync());

        using var refused = await client.PostAsync("/form", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "Mallory" }));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task A_multipart_upload_over_the_spool_threshold_reaches_Django_whole()
    {
        var data = new byte[3 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(data);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(data), "file", "photo.bin" } };

        using var r = await Server.Client.PostAsync("/upload", form);
        var json = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(data.Length, json.GetProperty("size").GetInt32());
        Assert.Equal(Http.Sha256Hex(data), json.Str("sha256"));
        Assert.True(json.GetProperty("on_disk").GetBoolean(), "Django kept a 3 MiB upload in memory: its parser did not see the size");
    }

    [Fact]
    public async Task Django_streaming_and_file_responses_arrive_whole()
    {
        Assert.Equal(string.Concat(Enumerable.Range(0, 5).Select(i => $"chunk {i}\n")), await Server.Client.GetTextAsync("/stream"));

        var expected = await File.ReadAllBytesAsync(Path.Combine(TapsterServer.TestAssets, "djangosite", "djangosite", "templates", "form.html"));
        Assert.Equal(expected, await Server.Client.GetByteArrayAsync("/file"));
    }

    [Fact]
    public async Task A_Django_view_error_is_a_bare_500_and_its_traceback_goes_to_the_log()
    {
        using var r = await Server.Client.GetAsync("/error");
        var body = await r.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", body, StringComparison.Ordinal);
        await Server.WaitForLogAsync(l => l.Contains("deliberate failure", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task Django_builds_its_urls_under_the_mount_prefix()
    {
        await using var server = await TapsterServer.StartAsync("djangosite", "--workers", "1", "--threads", "1", "--script-name", "/site");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/site/environ?q=1");
        request.Headers.Add("X-Request-ID", "django-req-1");

        using var r = await server.Client.SendAsync(request);
        var json = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("/site", json.Str("script_name"));
        Assert.Equal("/environ", json.Str("path_info"));
        Assert.Equal("/site/environ", json.Str("path"));
        Assert.Equal("/site/form", json.Str("reverse_form"));
        Assert.Equal($"http://127.0.0.1:{server.Port}/site/environ?q=1", json.Str("absolute"));
        Assert.Equal("django-req-1", json.Str("request_id"));
    }

    [GeneratedRegex("name=\"csrfmiddlewaretoken\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfToken();
}
