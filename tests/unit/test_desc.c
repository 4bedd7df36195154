/* test_desc.c - description rendering: placeholders, escaping, IGD:1/IGD:2
 * variants, well-formedness (xmllint when present). */
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

static const char *paths[] = { "/rootDesc.xml", "/WANIPCn.xml", "/WANCfg.xml", "/L3F.xml" };

TEST(desc_render_fills_placeholders)
{
	struct igdd_ctx ctx;
	size_t len;
	char *d;

	fake_ctx(&ctx);
	str_copy(ctx.cfg.friendly_name, sizeof(ctx.cfg.friendly_name), "Tom & Jerry's <router>");
	d = desc_render(&ctx, "/rootDesc.xml", "http://192.168.1.1:5000/", &len);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_EQ(strlen(d), len);
	CHECK(strstr(d, "<friendlyName>Tom &amp; Jerry&apos;s &lt;router&gt;</friendlyName>") != NULL);
	CHECK(strstr(d, "<UDN>uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b</UDN>") != NULL);
	CHECK(strstr(d, "device:InternetGatewayDevice:2<") != NULL);
	CHECK(strstr(d, "service:WANIPConnection:2<") != NULL);
	CHECK(strstr(d, "configId=\"7\"") != NULL);
	CHECK(strstr(d, "<manufacturerURL>http://192.168.1.1:5000/</manufacturerURL>") != NULL);
	CHECK(strstr(d, "presentationURL") == NULL);	/* not configured */
	CHECK(strchr(d, '@') == NULL);
	free(d);
}

TEST(desc_render_v1_and_presentation)
{
	struct igdd_ctx ctx;
	size_t len;
	char *d;

	fake_ctx(&ctx);
	ctx.cfg.force_igd_desc_v1 = true;
	str_copy(ctx.cfg.presentation_url, sizeof(ctx.cfg.presentation_url), "http://192.168.1.1/");
	d = desc_render(&ctx, "/rootDesc.xml", "http://x/", &len);
	CHECK(d != NULL && strstr(d, "InternetGatewayDevice:1<") != NULL);
	CHECK(d != NULL && strstr(d, "WANIPConnection:1<") != NULL);
	CHECK(d != NULL && strstr(d, "<presentationURL>http://192.168.1.1/</presentationURL>") != NULL);
	free(d);
	d = desc_render(&ctx, "/WANIPCn.xml", "http://x/", &len);
	CHECK(d != NULL && strstr(d, "AddPortMapping") != NULL);
	CHECK(d != NULL && strstr(d, "AddAnyPortMapping") == NULL);
	CHECK(d != NULL && strstr(d, "GetListOfPortMappings") == NULL);
	CHECK(d != NULL && strstr(d, "SystemUpdateID") == NULL);
	free(d);
	ctx.cfg.force_igd_desc_v1 = false;
	d = desc_render(&ctx, "/WANIPCn.xml", "http://x/", &len);
	CHECK(d != NULL && strstr(d, "AddAnyPortMapping") != NULL);
	free(d);
}

TEST(desc_render_unknown_paths)
{
	struct igdd_ctx ctx;
	size_t len;

	fake_ctx(&ctx);
	CHECK(desc_render(&ctx, "/nope.xml", "", &len) == NULL);
	CHECK(desc_render(&ctx, "rootDesc.xml", "", &len) == NULL);
	CHECK(desc_render(&ctx, "/../rootDesc.xml", "", &len) == NULL);
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
	for (v1 = 0; v1 < 2; v1++) {
		ctx.cfg.force_igd_desc_v1 = v1;
		for (i = 0; i < ARRAY_SIZE(paths); i++) {
			char tmp[] = "/tmp/igdd-desc.XXXXXX", cmd[128];
			size_t len;
			char *d = desc_render(&ctx, paths[i], "http://192.168.1.1:5000/", &len);
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
