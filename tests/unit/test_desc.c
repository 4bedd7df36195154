/* test_desc.c - description rendering: placeholders, escaping, IGD:1/IGD:2
 * variants, well-formedness (xmllint when present). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "desc.h"
#include "unit.h"
#include "util.h"
#include "xmldata.h"

static void
fake_ctx(struct igdd_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	str_copy(ctx->uuid, sizeof(ctx->uuid), "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	ctx->configid = 7;
}

/* A control point that reached us on 192.168.1.1, served IGD:n. */
#define VIEW(n)	(&(struct desc_view){ { htonl(0xc0a80101) }, (n) })

static const char *paths[] = { "/rootDesc.xml", "/WANIPCn.xml", "/WANCfg.xml", "/L3F.xml" };

TEST(desc_render_fills_placeholders)
{
	struct igdd_ctx ctx;
	size_t len;
	char *d;

	fake_ctx(&ctx);
	str_copy(ctx.cfg.friendly_name, sizeof(ctx.cfg.friendly_name), "Tom & Jerry's <router>");
	d = desc_render(&ctx, "/rootDesc.xml", VIEW(2), &len);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_EQ(strlen(d), len);
	CHECK(strstr(d, "<friendlyName>Tom &amp; Jerry&apos;s &lt;router&gt;</friendlyName>") != NULL);
	CHECK(strstr(d, "<UDN>uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b</UDN>") != NULL);
	CHECK(strstr(d, "device:InternetGatewayDevice:2<") != NULL);
	CHECK(strstr(d, "service:WANIPConnection:2<") != NULL);
	CHECK(strstr(d, "configId=\"7\"") != NULL);
	/* optional URLs not configured: left out, never a URL that 404s */
	CHECK(strstr(d, "manufacturerURL") == NULL);
	CHECK(strstr(d, "modelURL") == NULL);
	/* presentation_url not set: miniupnpd's http://<LAN address>/ */
	CHECK(strstr(d, "<presentationURL>http://192.168.1.1/</presentationURL>") != NULL);
	CHECK(strchr(d, '@') == NULL);
	CHECK(strstr(d, "<!--") == NULL);	/* no template comment served */
	free(d);
}

TEST(desc_render_v1_and_presentation)
{
	struct igdd_ctx ctx;
	size_t len;
	char *d;

	fake_ctx(&ctx);
	ctx.cfg.force_igd_desc_v1 = true;
	str_copy(ctx.cfg.presentation_url, sizeof(ctx.cfg.presentation_url), "http://10.0.0.1:8080/ui");
	ctx.cfg.has_presentation_url = true;
	d = desc_render(&ctx, "/rootDesc.xml", VIEW(1), &len);
	CHECK(d != NULL && strstr(d, "InternetGatewayDevice:1<") != NULL);
	CHECK(d != NULL && strstr(d, "WANIPConnection:1<") != NULL);
	CHECK(d != NULL && strstr(d, "<presentationURL>http://10.0.0.1:8080/ui</presentationURL>") != NULL);
	free(d);
	/* set empty: no presentationURL at all */
	ctx.cfg.presentation_url[0] = '\0';
	d = desc_render(&ctx, "/rootDesc.xml", VIEW(1), &len);
	CHECK(d != NULL && strstr(d, "presentationURL") == NULL);
	free(d);
	d = desc_render(&ctx, "/WANIPCn.xml", VIEW(1), &len);
	CHECK(d != NULL && strstr(d, "AddPortMapping") != NULL);
	CHECK(d != NULL && strstr(d, "AddAnyPortMapping") == NULL);
	CHECK(d != NULL && strstr(d, "GetListOfPortMappings") == NULL);
	CHECK(d != NULL && strstr(d, "SystemUpdateID") == NULL);
	free(d);
	d = desc_render(&ctx, "/WANIPCn.xml", VIEW(2), &len);
	CHECK(d != NULL && strstr(d, "AddAnyPortMapping") != NULL);
	free(d);
}

TEST(desc_render_unknown_paths)
{
	struct igdd_ctx ctx;
	size_t len;

	fake_ctx(&ctx);
	CHECK(desc_render(&ctx, "/nope.xml", VIEW(2), &len) == NULL);
	CHECK(desc_render(&ctx, "rootDesc.xml", VIEW(2), &len) == NULL);
	CHECK(desc_render(&ctx, "/../rootDesc.xml", VIEW(2), &len) == NULL);
	CHECK(desc_service_by_control("/ctl/IPConn") == &desc_services[SVC_WANIPC]);
	CHECK(desc_service_by_event("/evt/L3F") == &desc_services[SVC_L3F]);
	CHECK(desc_service_by_control("/ctl/nope") == NULL);
}

/* Every document, both variants, is well-formed XML (xmllint --noout). */
TEST(desc_xmllint_all_documents)
{
	struct igdd_ctx ctx;
	int v1;
	size_t i;

	if (system("xmllint --version >/dev/null 2>&1") != 0) {
		printf("    (xmllint not installed: well-formedness not checked)\n");
		return;
	}
	fake_ctx(&ctx);
	str_copy(ctx.cfg.presentation_url, sizeof(ctx.cfg.presentation_url), "http://a/?b=1&c=2");
	ctx.cfg.has_presentation_url = true;
	str_copy(ctx.cfg.model_url, sizeof(ctx.cfg.model_url), "https://example.org/igdd?a&amp;b");
	for (v1 = 0; v1 < 2; v1++) {
		for (i = 0; i < ARRAY_SIZE(paths); i++) {
			char tmp[] = "/tmp/igdd-desc.XXXXXX", cmd[128];
			size_t len;
			char *d = desc_render(&ctx, paths[i], VIEW(v1 ? 1 : 2),
					      &len);
			int fd = mkstemp(tmp);

			CHECK(d != NULL);
			CHECK(fd >= 0);
			if (d == NULL || fd < 0)
				continue;
			CHECK_EQ(write(fd, d, len), (long long)len);
			close(fd);
			str_printf(cmd, sizeof(cmd), "xmllint --noout %s", tmp);
			CHECK_EQ(system(cmd), 0);
			unlink(tmp);
			free(d);
		}
	}
}

/* Names OpenWrt's init script XML-escaped already are served escaped
 * once; raw ones are escaped; configured URLs are served. */
TEST(desc_render_pre_escaped_names)
{
	struct igdd_ctx ctx;
	size_t len;
	char *d;

	fake_ctx(&ctx);
	str_copy(ctx.cfg.friendly_name, sizeof(ctx.cfg.friendly_name), "OpenWrt UPnP IGD &amp; PCP");
	str_copy(ctx.cfg.model_number, sizeof(ctx.cfg.model_number), "A &lt;1&gt; &#233;&#xE9; & &x; &#;");
	str_copy(ctx.cfg.serial, sizeof(ctx.cfg.serial), "R&D \"7\"");
	str_copy(ctx.cfg.manufacturer_url, sizeof(ctx.cfg.manufacturer_url), "https://openwrt.org/");
	str_copy(ctx.cfg.model_url, sizeof(ctx.cfg.model_url), "https://example.org/m?a=1&b=2");
	d = desc_render(&ctx, "/rootDesc.xml", VIEW(2), &len);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK(strstr(d, "<friendlyName>OpenWrt UPnP IGD &amp; PCP</friendlyName>") != NULL);
	CHECK(strstr(d, "&amp;amp;") == NULL);
	CHECK(strstr(d, "<modelNumber>A &lt;1&gt; &#233;&#xE9; &amp; &amp;x; &amp;#;</modelNumber>")
	      != NULL);
	CHECK(strstr(d, "<serialNumber>R&amp;D &quot;7&quot;</serialNumber>") != NULL);
	CHECK(strstr(d, "<manufacturerURL>https://openwrt.org/</manufacturerURL>") != NULL);
	CHECK(strstr(d, "<modelURL>https://example.org/m?a=1&amp;b=2</modelURL>") != NULL);
	free(d);
}

/* The control points that fail on IGD:2, by User-Agent (miniupnpd 2.2.3
 * and OpenWrt's patch), and some that do not. */
TEST(desc_user_agents_wanting_igd1)
{
	static const char *const v1[] = {
		"Microsoft-Windows/10.0 UPnP/1.0", "Microsoft-Windows/6.1 UPnP/1.0",
		"microsoft-windows/6.3 UPnP/1.0", "FDSSDP",
		"Mozilla/4.0 (compatible; UPnP/1.0; Windows 9x)",
		"Mozilla/4.0 (compatible; UPnP/1.0; Windows NT/5.1)",
		"Xbox/2.0.17559.0 UPnP/1.0 Xbox/2.0.17559.0",
	};
	static const char *const v2[] = {
		"", "Linux/6.1 UPnP/1.1 MiniUPnPc/2.2.4", "Xbox/2.0", "curl/8.5.0",
		"Mozilla/5.0 (X11; Linux x86_64)", "fdssdp", "UPnP/1.0 DLNADOC/1.50",
	};
	struct igdd_ctx ctx;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v1); i++)
		CHECK(desc_ua_wants_igd1(v1[i], strlen(v1[i])));
	for (i = 0; i < ARRAY_SIZE(v2); i++)
		CHECK(!desc_ua_wants_igd1(v2[i], strlen(v2[i])));
	CHECK(!desc_ua_wants_igd1(NULL, 0));
	/* the slice is what counts, not what follows it */
	CHECK(!desc_ua_wants_igd1("FDSS" "DP", 4));
	fake_ctx(&ctx);
	ctx.cfg.igd_v1_by_user_agent = true;
	CHECK_EQ(desc_igd_version_for(&ctx, "FDSSDP", 6), 1);
	CHECK_EQ(desc_igd_version_for(&ctx, "MiniUPnPc", 9), 2);
	ctx.cfg.igd_v1_by_user_agent = false;
	CHECK_EQ(desc_igd_version_for(&ctx, "FDSSDP", 6), 2);
	ctx.cfg.force_igd_desc_v1 = true;
	CHECK_EQ(desc_igd_version_for(&ctx, "MiniUPnPc", 9), 1);
}
