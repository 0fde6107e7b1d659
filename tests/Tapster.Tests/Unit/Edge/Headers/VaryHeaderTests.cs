using Microsoft.AspNetCore.Http;
using Tapster.Edge.Headers;

namespace Tapster.Tests.Unit.Edge.Headers;

public sealed class VaryHeaderTests
{
    [Theory]
    [InlineData(new string[0], new[] { "Origin" })]
    [InlineData(new[] { "X-Origin-Token" }, new[] { "X-Origin-Token", "Origin" })]
    [InlineData(new[] { "Accept-Encoding-Foo" }, new[] { "Accept-Encoding-Foo", "Origin" })]
    [InlineData(new[] { "Cookie, origin" }, new[] { "Cookie, origin" })]
    [InlineData(new[] { "Cookie", " Origin " }, new[] { "Cookie", " Origin " })]
    [InlineData(new[] { "*" }, new[] { "*" })]
    [InlineData(new[] { "Cookie, *" }, new[] { "Cookie, *" })]
    public void A_field_is_added_unless_a_whole_name_in_the_list_is_it_or_a_star(string[] existing, string[] expected)
    {
        IHeaderDictionary headers = new HeaderDictionary();
        if (existing.Length > 0)
        {
            headers.Vary = existing;
        }

        VaryHeader.Add(headers, "Origin");

        Assert.Equal(expected, headers.Vary.ToArray());
    }
}
