//! The route table: every ARI operation with its parameters and error
//! responses, one entry per operation, grouped by resource and path as the
//! Swagger listing groups them. The Swagger documents served under
//! `/ari/api-docs/` and the request router are both generated from it.

use super::{Api, Method::*, Operation as Op, Param, Resource};

/// Every resource, in the order of Asterisk's `resources.json`.
pub(crate) static RESOURCES: &[Resource] = &[
    Resource {
        name: "asterisk",
        description: "Asterisk resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &[],
        models: include_str!("models/asterisk.json"),
        apis: &[
            Api {
                path: "/asterisk/config/dynamic/{configClass}/{objectType}/{id}",
                description: "Asterisk dynamic configuration",
                operations: &[
                    Op::new(Get, "getObject", "Retrieve a dynamic configuration object.", "List[ConfigTuple]").since(&["13.5.0"]).params(&[Param::path("configClass", "string", "The configuration class containing dynamic configuration objects.").required(), Param::path("objectType", "string", "The type of configuration object to retrieve.").required(), Param::path("id", "string", "The unique identifier of the object to retrieve.").required()]).errors(&[(404, "{configClass|objectType|id} not found")]),
                    Op::new(Put, "updateObject", "Create or update a dynamic configuration object.", "List[ConfigTuple]").since(&["13.5.0"]).params(&[Param::path("configClass", "string", "The configuration class containing dynamic configuration objects.").required(), Param::path("objectType", "string", "The type of configuration object to create or update.").required(), Param::path("id", "string", "The unique identifier of the object to create or update.").required(), Param::body("fields", "containers", "The body object should have a value that is a list of ConfigTuples, which provide the fields to update. Ex. [ { \"attribute\": \"directmedia\", \"value\": \"false\" } ]")]).errors(&[(400, "Bad request body"), (403, "Could not create or update object"), (404, "{configClass|objectType} not found")]),
                    Op::new(Delete, "deleteObject", "Delete a dynamic configuration object.", "void").since(&["13.5.0"]).params(&[Param::path("configClass", "string", "The configuration class containing dynamic configuration objects.").required(), Param::path("objectType", "string", "The type of configuration object to delete.").required(), Param::path("id", "string", "The unique identifier of the object to delete.").required()]).errors(&[(403, "Could not delete object"), (404, "{configClass|objectType|id} not found")]),
                ],
            },
            Api {
                path: "/asterisk/info",
                description: "Asterisk system information (similar to core show settings)",
                operations: &[
                    Op::new(Get, "getInfo", "Gets Asterisk system information.", "AsteriskInfo").since(&["12.0.0"]).params(&[Param::query("only", "string", "Filter information returned").multiple().values(&["build", "system", "config", "status"])]),
                ],
            },
            Api {
                path: "/asterisk/ping",
                description: "Asterisk ping",
                operations: &[
                    Op::new(Get, "ping", "Response pong message.", "AsteriskPing").since(&["13.25.0", "16.2.0"]),
                ],
            },
            Api {
                path: "/asterisk/modules",
                description: "Asterisk modules",
                operations: &[
                    Op::new(Get, "listModules", "List Asterisk modules.", "List[Module]").since(&["13.5.0"]),
                ],
            },
            Api {
                path: "/asterisk/modules/{moduleName}",
                description: "Asterisk module",
                operations: &[
                    Op::new(Get, "getModule", "Get Asterisk module information.", "Module").since(&["13.5.0"]).params(&[Param::path("moduleName", "string", "Module's name").required()]).errors(&[(404, "Module could not be found in running modules."), (409, "Module information could not be retrieved.")]),
                    Op::new(Post, "loadModule", "Load an Asterisk module.", "void").since(&["13.5.0"]).params(&[Param::path("moduleName", "string", "Module's name").required()]).errors(&[(409, "Module could not be loaded.")]),
                    Op::new(Delete, "unloadModule", "Unload an Asterisk module.", "void").since(&["13.5.0"]).params(&[Param::path("moduleName", "string", "Module's name").required()]).errors(&[(404, "Module not found in running modules."), (409, "Module could not be unloaded.")]),
                    Op::new(Put, "reloadModule", "Reload an Asterisk module.", "void").since(&["13.5.0"]).params(&[Param::path("moduleName", "string", "Module's name").required()]).errors(&[(404, "Module not found in running modules."), (409, "Module could not be reloaded.")]),
                ],
            },
            Api {
                path: "/asterisk/logging",
                description: "Asterisk log channels",
                operations: &[
                    Op::new(Get, "listLogChannels", "Gets Asterisk log channel information.", "List[LogChannel]").since(&["13.6.0"]),
                ],
            },
            Api {
                path: "/asterisk/logging/{logChannelName}",
                description: "Asterisk log channel",
                operations: &[
                    Op::new(Post, "addLog", "Adds a log channel.", "void").since(&["13.6.0"]).params(&[Param::path("logChannelName", "string", "The log channel to add").required(), Param::query("configuration", "string", "levels of the log channel").required()]).errors(&[(400, "Bad request body"), (409, "Log channel could not be created.")]),
                    Op::new(Delete, "deleteLog", "Deletes a log channel.", "void").since(&["13.6.0"]).params(&[Param::path("logChannelName", "string", "Log channels name").required()]).errors(&[(404, "Log channel does not exist.")]),
                ],
            },
            Api {
                path: "/asterisk/logging/{logChannelName}/rotate",
                description: "Asterisk log channel",
                operations: &[
                    Op::new(Put, "rotateLog", "Rotates a log channel.", "void").since(&["13.6.0"]).params(&[Param::path("logChannelName", "string", "Log channel's name").required()]).errors(&[(404, "Log channel does not exist.")]),
                ],
            },
            Api {
                path: "/asterisk/variable",
                description: "Global variables",
                operations: &[
                    Op::new(Get, "getGlobalVar", "Get the value of a global variable.", "Variable").since(&["12.0.0"]).params(&[Param::query("variable", "string", "The variable to get").required()]).errors(&[(400, "Missing variable parameter.")]),
                    Op::new(Post, "setGlobalVar", "Set the value of a global variable.", "void").since(&["12.0.0"]).params(&[Param::query("variable", "string", "The variable to set").required(), Param::query("value", "string", "The value to set the variable to")]).errors(&[(400, "Missing variable parameter.")]),
                ],
            },
        ],
    },
    Resource {
        name: "endpoints",
        description: "Endpoint resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &[],
        models: include_str!("models/endpoints.json"),
        apis: &[
            Api {
                path: "/endpoints",
                description: "Asterisk endpoints",
                operations: &[
                    Op::new(Get, "list", "List all endpoints.", "List[Endpoint]").since(&["12.0.0"]),
                ],
            },
            Api {
                path: "/endpoints/sendMessage",
                description: "Send a message to some technology URI or endpoint.",
                operations: &[
                    Op::new(Put, "sendMessage", "Send a message to some technology URI or endpoint.", "void").since(&["13.0.0"]).params(&[Param::query("to", "string", "The endpoint resource or technology specific URI to send the message to. Valid resources are pjsip, and xmpp.").required(), Param::query("from", "string", "The endpoint resource or technology specific identity to send this message from. Valid resources are pjsip, and xmpp.").required(), Param::query("body", "string", "The body of the message"), Param::body("variables", "containers", "The \"variables\" key in the body object holds technology specific key/value pairs to append to the message. These can be interpreted and used by the various resource types; for example, pjsip and sip resource types will add the key/value pairs as SIP headers,")]).errors(&[(400, "Invalid parameters for sending a message."), (404, "Endpoint not found")]),
                ],
            },
            Api {
                path: "/endpoints/refer",
                description: "Refer an endpoint or technology URI to some technology URI or endpoint.",
                operations: &[
                    Op::new(Post, "refer", "Refer an endpoint or technology URI to some technology URI or endpoint.", "void").since(&["18.20.0", "20.5.0"]).params(&[Param::query("to", "string", "The endpoint resource or technology specific URI that should be referred to somewhere. Valid resource is pjsip.").required(), Param::query("from", "string", "The endpoint resource or technology specific identity to refer from.").required(), Param::query("refer_to", "string", "The endpoint resource or technology specific URI to refer to.").required(), Param::query("to_self", "boolean", "If true and \"refer_to\" refers to an Asterisk endpoint, the \"refer_to\" value is set to point to this Asterisk endpoint - so the referee is referred to Asterisk. Otherwise, use the contact URI associated with the endpoint.").default_bool(false), Param::body("variables", "containers", "The \"variables\" key in the body object holds technology specific key/value pairs to append to the message. These can be interpreted and used by the various resource types; for example, the pjsip resource type will add the key/value pairs as SIP headers. The \"display_name\" key is used by the PJSIP technology. Its value will be prepended as a display name to the Refer-To URI.")]).errors(&[(400, "Invalid parameters for referring."), (404, "Endpoint not found")]),
                ],
            },
            Api {
                path: "/endpoints/{tech}",
                description: "Asterisk endpoints",
                operations: &[
                    Op::new(Get, "listByTech", "List available endoints for a given endpoint technology.", "List[Endpoint]").since(&["12.0.0"]).params(&[Param::path("tech", "string", "Technology of the endpoints (pjsip,iax2,...)")]).errors(&[(404, "Endpoints not found")]),
                ],
            },
            Api {
                path: "/endpoints/{tech}/{resource}",
                description: "Single endpoint",
                operations: &[
                    Op::new(Get, "get", "Details for an endpoint.", "Endpoint").since(&["12.0.0"]).params(&[Param::path("tech", "string", "Technology of the endpoint"), Param::path("resource", "string", "ID of the endpoint")]).errors(&[(400, "Invalid parameters for sending a message."), (404, "Endpoints not found")]),
                ],
            },
            Api {
                path: "/endpoints/{tech}/{resource}/sendMessage",
                description: "Send a message to some endpoint in a technology.",
                operations: &[
                    Op::new(Put, "sendMessageToEndpoint", "Send a message to some endpoint in a technology.", "void").since(&["13.0.0"]).params(&[Param::path("tech", "string", "Technology of the endpoint"), Param::path("resource", "string", "ID of the endpoint"), Param::query("from", "string", "The endpoint resource or technology specific identity to send this message from. Valid resources are pjsip and xmpp.").required(), Param::query("body", "string", "The body of the message"), Param::body("variables", "containers", "The \"variables\" key in the body object holds technology specific key/value pairs to append to the message. These can be interpreted and used by the various resource types; for example, pjsip and sip resource types will add the key/value pairs as SIP headers,")]).errors(&[(400, "Invalid parameters for sending a message."), (404, "Endpoint not found")]),
                ],
            },
            Api {
                path: "/endpoints/{tech}/{resource}/refer",
                description: "Refer an endpoint in a technology to some technology URI or endpoint..",
                operations: &[
                    Op::new(Post, "referToEndpoint", "Refer an endpoint or technology URI to some technology URI or endpoint.", "void").since(&["18.20.0", "20.5.0"]).params(&[Param::path("tech", "string", "Technology of the endpoint"), Param::path("resource", "string", "ID of the endpoint"), Param::query("from", "string", "The endpoint resource or technology specific identity to refer from.").required(), Param::query("refer_to", "string", "The endpoint resource or technology specific URI to refer to.").required(), Param::query("to_self", "boolean", "If true and \"refer_to\" refers to an Asterisk endpoint, the \"refer_to\" value is set to point to this Asterisk endpoint - so the referee is referred to Asterisk. Otherwise, use the contact URI associated with the endpoint.").default_bool(false), Param::body("variables", "containers", "The \"variables\" key in the body object holds technology specific key/value pairs to append to the message. These can be interpreted and used by the various resource types; for example, the pjsip resource type will add the key/value pairs as SIP headers,")]).errors(&[(400, "Invalid parameters for referring."), (404, "Endpoint not found")]),
                ],
            },
        ],
    },
    Resource {
        name: "channels",
        description: "Channel resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &["res_stasis_answer", "res_stasis_playback", "res_stasis_recording", "res_stasis_snoop"],
        models: include_str!("models/channels.json"),
        apis: &[
            Api {
                path: "/channels",
                description: "Active channels",
                operations: &[
                    Op::new(Get, "list", "List all active channels in Asterisk.", "List[Channel]").since(&["12.0.0"]),
                    Op::new(Post, "originate", "Create a new channel (originate).", "Channel").since(&["12.0.0"]).notes("The new channel is created immediately and a snapshot of it returned. If a Stasis application is provided it will be automatically subscribed to the originated channel for further events and updates.").params(&[Param::query("endpoint", "string", "Endpoint to call.").required(), Param::query("extension", "string", "The extension to dial after the endpoint answers. Mutually exclusive with 'app'."), Param::query("context", "string", "The context to dial after the endpoint answers. If omitted, uses 'default'. Mutually exclusive with 'app'."), Param::query("priority", "long", "The priority to dial after the endpoint answers. If omitted, uses 1. Mutually exclusive with 'app'."), Param::query("label", "string", "The label to dial after the endpoint answers. Will supersede 'priority' if provided. Mutually exclusive with 'app'."), Param::query("app", "string", "The application that is subscribed to the originated channel. When the channel is answered, it will be passed to this Stasis application. Mutually exclusive with 'context', 'extension', 'priority', and 'label'."), Param::query("appArgs", "string", "The application arguments to pass to the Stasis application provided by 'app'. Mutually exclusive with 'context', 'extension', 'priority', and 'label'."), Param::query("callerId", "string", "CallerID to use when dialing the endpoint or extension."), Param::query("timeout", "int", "Timeout (in seconds) before giving up dialing, or -1 for no timeout.").default_int(30), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the channel on creation. Each variable value may be either a string or an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in channel events (defaults to false). Other keys in the body object are interpreted as query parameters. Ex. { \"endpoint\": \"SIP/Alice\", \"variables\": { \"CALLERID(name)\": \"Alice\", \"Call_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }"), Param::query("channelId", "string", "The unique id to assign the channel on creation."), Param::query("otherChannelId", "string", "The unique id to assign the second channel when using local channels."), Param::query("originator", "string", "The unique id of the channel which is originating this one."), Param::query("formats", "string", "The format name capability list to use if originator is not specified. Ex. \"ulaw,slin16\".  Format names can be found with \"core show codecs\".")]).errors(&[(400, "Invalid parameters for originating a channel."), (409, "Channel with given unique ID already exists.")]),
                ],
            },
            Api {
                path: "/channels/create",
                description: "Create a channel and place it in a Stasis app, but do not dial the channel yet.",
                operations: &[
                    Op::new(Post, "create", "Create channel.", "Channel").since(&["14.0.0"]).params(&[Param::query("endpoint", "string", "Endpoint for channel communication").required(), Param::query("app", "string", "Stasis Application to place channel into").required(), Param::query("appArgs", "string", "The application arguments to pass to the Stasis application provided by 'app'. Mutually exclusive with 'context', 'extension', 'priority', and 'label'."), Param::query("channelId", "string", "The unique id to assign the channel on creation."), Param::query("otherChannelId", "string", "The unique id to assign the second channel when using local channels."), Param::query("originator", "string", "Unique ID of the calling channel"), Param::query("formats", "string", "The format name capability list to use if originator is not specified. Ex. \"ulaw,slin16\".  Format names can be found with \"core show codecs\"."), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the channel on creation. Each variable value may be either a string or an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in channel events (defaults to false). Other keys in the body object are interpreted as query parameters. Ex. { \"endpoint\": \"SIP/Alice\", \"variables\": { \"CALLERID(name)\": \"Alice\", \"Call_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }")]).errors(&[(409, "Channel with given unique ID already exists.")]),
                ],
            },
            Api {
                path: "/channels/{channelId}",
                description: "Active channel",
                operations: &[
                    Op::new(Get, "get", "Channel details.", "Channel").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found")]),
                    Op::new(Post, "originateWithId", "Create a new channel (originate with id).", "Channel").since(&["12.2.0"]).notes("The new channel is created immediately and a snapshot of it returned. If a Stasis application is provided it will be automatically subscribed to the originated channel for further events and updates.").params(&[Param::path("channelId", "string", "The unique id to assign the channel on creation.").required(), Param::query("endpoint", "string", "Endpoint to call.").required(), Param::query("extension", "string", "The extension to dial after the endpoint answers. Mutually exclusive with 'app'."), Param::query("context", "string", "The context to dial after the endpoint answers. If omitted, uses 'default'. Mutually exclusive with 'app'."), Param::query("priority", "long", "The priority to dial after the endpoint answers. If omitted, uses 1. Mutually exclusive with 'app'."), Param::query("label", "string", "The label to dial after the endpoint answers. Will supersede 'priority' if provided. Mutually exclusive with 'app'."), Param::query("app", "string", "The application that is subscribed to the originated channel. When the channel is answered, it will be passed to this Stasis application. Mutually exclusive with 'context', 'extension', 'priority', and 'label'."), Param::query("appArgs", "string", "The application arguments to pass to the Stasis application provided by 'app'. Mutually exclusive with 'context', 'extension', 'priority', and 'label'."), Param::query("callerId", "string", "CallerID to use when dialing the endpoint or extension."), Param::query("timeout", "int", "Timeout (in seconds) before giving up dialing, or -1 for no timeout.").default_int(30), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the channel on creation. Each variable value may be either a string or an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in channel events (defaults to false). Other keys in the body object are interpreted as query parameters. Ex. { \"endpoint\": \"SIP/Alice\", \"variables\": { \"CALLERID(name)\": \"Alice\", \"Call_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }"), Param::query("otherChannelId", "string", "The unique id to assign the second channel when using local channels."), Param::query("originator", "string", "The unique id of the channel which is originating this one."), Param::query("formats", "string", "The format name capability list to use if originator is not specified. Ex. \"ulaw,slin16\".  Format names can be found with \"core show codecs\".")]).errors(&[(400, "Invalid parameters for originating a channel."), (409, "Channel with given unique ID already exists.")]),
                    Op::new(Delete, "hangup", "Delete (i.e. hangup) a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("reason_code", "string", "The reason code for hanging up the channel for detail use. Mutually exclusive with 'reason'. See detail hangup codes at here. https://docs.asterisk.org/Configuration/Miscellaneous/Hangup-Cause-Mappings/"), Param::query("reason", "string", "Reason for hanging up the channel for simple use. Mutually exclusive with 'reason_code'.").values(&["normal", "busy", "congestion", "no_answer", "timeout", "rejected", "unallocated", "normal_unspecified", "number_incomplete", "codec_mismatch", "interworking", "failure", "answered_elsewhere"])]).errors(&[(400, "Invalid reason for hangup provided"), (404, "Channel not found")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/continue",
                description: "Exit application; continue execution in the dialplan",
                operations: &[
                    Op::new(Post, "continueInDialplan", "Exit application; continue execution in the dialplan.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("context", "string", "The context to continue to."), Param::query("extension", "string", "The extension to continue to."), Param::query("priority", "int", "The priority to continue to."), Param::query("label", "string", "The label to continue to - will supersede 'priority' if both are provided.")]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/move",
                description: "Move the channel from one Stasis application to another.",
                operations: &[
                    Op::new(Post, "move", "Move the channel from one Stasis application to another.", "void").since(&["13.26.0", "16.3.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("app", "string", "The channel will be passed to this Stasis application.").required(), Param::query("appArgs", "string", "The application arguments to pass to the Stasis application provided by 'app'.")]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/redirect",
                description: "Inform the channel that it should redirect itself to a different location. Note that this will almost certainly cause the channel to exit the application.",
                operations: &[
                    Op::new(Post, "redirect", "Redirect the channel to a different location.", "void").since(&["13.3.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("endpoint", "string", "The endpoint to redirect the channel to").required()]).errors(&[(400, "Endpoint parameter not provided"), (404, "Channel or endpoint not found"), (409, "Channel not in a Stasis application"), (422, "Endpoint is not the same type as the channel"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/answer",
                description: "Answer a channel",
                operations: &[
                    Op::new(Post, "answer", "Answer a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/ring",
                description: "Send a ringing indication to a channel",
                operations: &[
                    Op::new(Post, "ring", "Indicate ringing to a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                    Op::new(Delete, "ringStop", "Stop ringing indication on a channel if locally generated.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/progress",
                description: "Indicate progress on a channel",
                operations: &[
                    Op::new(Post, "progress", "Indicate progress on a channel.", "void").since(&["22.6.0", "21.11.0", "20.16.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/dtmf",
                description: "Send DTMF to a channel",
                operations: &[
                    Op::new(Post, "sendDTMF", "Send provided DTMF to a given channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("dtmf", "string", "DTMF To send."), Param::query("before", "int", "Amount of time to wait before DTMF digits (specified in milliseconds) start.").default_int(0), Param::query("between", "int", "Amount of time in between DTMF digits (specified in milliseconds).").default_int(100), Param::query("duration", "int", "Length of each DTMF digit (specified in milliseconds).").default_int(100), Param::query("after", "int", "Amount of time to wait after DTMF digits (specified in milliseconds) end.").default_int(0)]).errors(&[(400, "DTMF is required"), (404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/mute",
                description: "Mute a channel",
                operations: &[
                    Op::new(Post, "mute", "Mute a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("direction", "string", "Direction in which to mute audio").default_str("both").values(&["both", "in", "out"])]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                    Op::new(Delete, "unmute", "Unmute a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("direction", "string", "Direction in which to unmute audio").default_str("both").values(&["both", "in", "out"])]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/hold",
                description: "Put a channel on hold",
                operations: &[
                    Op::new(Post, "hold", "Hold a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                    Op::new(Delete, "unhold", "Remove a channel from hold.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/moh",
                description: "Play music on hold to a channel",
                operations: &[
                    Op::new(Post, "startMoh", "Play music on hold to a channel.", "void").since(&["12.0.0"]).notes("Using media operations such as /play on a channel playing MOH in this manner will suspend MOH without resuming automatically. If continuing music on hold is desired, the stasis application must reinitiate music on hold.").params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("mohClass", "string", "Music on hold class to use")]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                    Op::new(Delete, "stopMoh", "Stop playing music on hold to a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/silence",
                description: "Play silence to a channel",
                operations: &[
                    Op::new(Post, "startSilence", "Play silence to a channel.", "void").since(&["12.0.0"]).notes("Using media operations such as /play on a channel playing silence in this manner will suspend silence without resuming automatically.").params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                    Op::new(Delete, "stopSilence", "Stop playing silence to a channel.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/play",
                description: "Play media to a channel",
                operations: &[
                    Op::new(Post, "play", "Start playback of media.", "Playback").since(&["12.0.0"]).notes("The media URI may be any of a number of URI's. Currently sound:, recording:, number:, digits:, characters:, and tone: URI's are supported. This operation creates a playback resource that can be used to control the playback of media (pause, rewind, fast forward, etc.)").params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("media", "string", "Media URIs to play.").required().multiple(), Param::query("lang", "string", "For sounds, selects language for sound."), Param::query("offsetms", "int", "Number of milliseconds to skip before playing. Only applies to the first URI if multiple media URIs are specified."), Param::query("skipms", "int", "Number of milliseconds to skip for forward/reverse operations.").default_int(3000), Param::query("playbackId", "string", "Playback ID.")]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/play/{playbackId}",
                description: "Play media to a channel",
                operations: &[
                    Op::new(Post, "playWithId", "Start playback of media and specify the playbackId.", "Playback").since(&["12.2.0"]).notes("The media URI may be any of a number of URI's. Currently sound:, recording:, number:, digits:, characters:, and tone: URI's are supported. This operation creates a playback resource that can be used to control the playback of media (pause, rewind, fast forward, etc.)").params(&[Param::path("channelId", "string", "Channel's id").required(), Param::path("playbackId", "string", "Playback ID.").required(), Param::query("media", "string", "Media URIs to play.").required().multiple(), Param::query("lang", "string", "For sounds, selects language for sound."), Param::query("offsetms", "int", "Number of milliseconds to skip before playing. Only applies to the first URI if multiple media URIs are specified."), Param::query("skipms", "int", "Number of milliseconds to skip for forward/reverse operations.").default_int(3000)]).errors(&[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/record",
                description: "Record audio from a channel",
                operations: &[
                    Op::new(Post, "record", "Start a recording.", "LiveRecording").since(&["12.0.0"]).notes("Record audio from a channel. Note that this will not capture audio sent to the channel. The bridge itself has a record feature if that's what you want.").params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("name", "string", "Recording's filename").required(), Param::query("format", "string", "Format to encode audio in").required(), Param::query("maxDurationSeconds", "int", "Maximum duration of the recording, in seconds. 0 for no limit").default_int(0).min(0), Param::query("maxSilenceSeconds", "int", "Maximum duration of silence, in seconds. 0 for no limit").default_int(0).min(0), Param::query("ifExists", "string", "Action to take if a recording with the same name already exists.").default_str("fail").values(&["fail", "overwrite", "append"]), Param::query("beep", "boolean", "Play beep when recording begins").default_bool(false), Param::query("terminateOn", "string", "DTMF input to terminate recording").default_str("none").values(&["none", "any", "*", "#"])]).errors(&[(400, "Invalid parameters"), (404, "Channel not found"), (409, "Channel is not in a Stasis application; the channel is currently bridged with other channels; A recording with the same name already exists on the system and can not be overwritten because it is in progress or ifExists=fail"), (422, "The format specified is unknown on this system")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/variable",
                description: "Variables on a channel",
                operations: &[
                    Op::new(Get, "getChannelVar", "Get the value of a channel variable or function.", "Variable").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("variable", "string", "The channel variable or function to get").required()]).errors(&[(400, "Missing variable parameter."), (404, "Channel or variable not found"), (409, "Channel not in a Stasis application")]),
                    Op::new(Post, "setChannelVar", "Set the value of a channel variable or function.", "void").since(&["12.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("variable", "string", "The channel variable or function to set").required(), Param::query("value", "string", "The value to set the variable to"), Param::query("report_events", "boolean", "Whether this variable should be included in channel events. Defaults to false.").default_bool(false)]).errors(&[(400, "Missing variable parameter."), (404, "Channel not found"), (409, "Channel not in a Stasis application")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/variables",
                description: "Multiple variables on a channel",
                operations: &[
                    Op::new(Get, "getChannelVars", "Get the value of multiple channel variables or functions.", "Variables").since(&["20.20.0", "22.10.0", "23.4.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("variables", "string", "The channel variables or functions to get").required().multiple()]).errors(&[(400, "Missing variables parameter."), (404, "Channel or variable not found"), (409, "Channel not in a Stasis application")]),
                    Op::new(Post, "setChannelVars", "Set the values of multiple channel variables or functions.", "void").since(&["20.20.0", "22.10.0", "23.4.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the channel. Each variable value may be either a string or an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in channel events (defaults to false). Ex. { \"variables\": { \"CALLERID(name)\": \"Alice\", \"Call_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }").required()]).errors(&[(400, "Missing variables parameter."), (404, "Channel not found"), (409, "Channel not in a Stasis application")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/snoop",
                description: "Snoop (spy/whisper) on a channel",
                operations: &[
                    Op::new(Post, "snoopChannel", "Start snooping.", "Channel").since(&["12.0.0"]).notes("Snoop (spy/whisper) on a specific channel.").params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("spy", "string", "Direction of audio to spy on").default_str("none").values(&["none", "both", "out", "in"]), Param::query("whisper", "string", "Direction of audio to whisper into").default_str("none").values(&["none", "both", "out", "in"]), Param::query("app", "string", "Application the snooping channel is placed into").required(), Param::query("appArgs", "string", "The application arguments to pass to the Stasis application"), Param::query("snoopId", "string", "Unique ID to assign to snooping channel")]).errors(&[(400, "Invalid parameters"), (404, "Channel not found")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/snoop/{snoopId}",
                description: "Snoop (spy/whisper) on a channel",
                operations: &[
                    Op::new(Post, "snoopChannelWithId", "Start snooping.", "Channel").since(&["12.2.0"]).notes("Snoop (spy/whisper) on a specific channel.").params(&[Param::path("channelId", "string", "Channel's id").required(), Param::path("snoopId", "string", "Unique ID to assign to snooping channel").required(), Param::query("spy", "string", "Direction of audio to spy on").default_str("none").values(&["none", "both", "out", "in"]), Param::query("whisper", "string", "Direction of audio to whisper into").default_str("none").values(&["none", "both", "out", "in"]), Param::query("app", "string", "Application the snooping channel is placed into").required(), Param::query("appArgs", "string", "The application arguments to pass to the Stasis application")]).errors(&[(400, "Invalid parameters"), (404, "Channel not found")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/dial",
                description: "Dial a channel",
                operations: &[
                    Op::new(Post, "dial", "Dial a created channel.", "void").since(&["14.0.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("caller", "string", "Channel ID of caller"), Param::query("timeout", "int", "Dial timeout").default_int(0).min(0)]).errors(&[(404, "Channel cannot be found."), (409, "Channel cannot be dialed.")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/rtp_statistics",
                description: "Get RTP statistics information for RTP on a channel",
                operations: &[
                    Op::new(Get, "rtpstatistics", "RTP stats on a channel.", "RTPstat").since(&["13.27.0", "16.4.0"]).params(&[Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Channel cannot be found.")]),
                ],
            },
            Api {
                path: "/channels/externalMedia",
                description: "Create a channel to an External Media source/sink.",
                operations: &[
                    Op::new(Post, "externalMedia", "Start an External Media session.", "Channel").since(&["16.6.0", "17.1.0"]).notes("Create a channel to an External Media source/sink.  The combination of transport and encapsulation will select one of chan_rtp(udp/rtp), chan_audiosocket(tcp/audiosocket) or chan_websocket(websocket/none) channel drivers.").params(&[Param::query("channelId", "string", "The unique id to assign the channel on creation."), Param::query("app", "string", "Stasis Application to place channel into").required(), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the channel on creation. Each variable value may be either a string or an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in channel events (defaults to false). Other keys in the body object are interpreted as query parameters. Ex. { \"endpoint\": \"SIP/Alice\", \"variables\": { \"CALLERID(name)\": \"Alice\", \"Call_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }"), Param::query("external_host", "string", "Hostname/ip:port or websocket_client connection ID of external host.  May be empty for a websocket server connection."), Param::query("encapsulation", "string", "Payload encapsulation protocol.  Must be 'none' for the websocket transport.").default_str("rtp").values(&["rtp", "audiosocket", "none"]), Param::query("transport", "string", "Transport protocol").default_str("udp").values(&["udp", "tcp", "websocket"]), Param::query("connection_type", "string", "Connection type (client/server). 'server' is only valid for the websocket transport.").default_str("client").values(&["client", "server"]), Param::query("format", "string", "Format to encode audio in").required(), Param::query("direction", "string", "External media direction").default_str("both").values(&["both"]), Param::query("data", "string", "An arbitrary data field"), Param::query("transport_data", "string", "Transport-specific data. For websocket this is appended to the dialstring.")]).errors(&[(400, "Invalid parameters"), (409, "Channel is not in a Stasis application; Channel is already bridged")]),
                ],
            },
            Api {
                path: "/channels/{channelId}/transfer_progress",
                description: "Inform the channel that the transfer is in progress.",
                operations: &[
                    Op::new(Post, "transfer_progress", "Inform the channel about the progress of the attended/blind transfer.", "void").since(&["22.3.0", "21.8.0", "20.13.0"]).params(&[Param::path("channelId", "string", "Channel's id").required(), Param::query("states", "string", "The state of the progress").required()]).errors(&[(400, "Endpoint parameter not provided"), (404, "Channel or endpoint not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")]),
                ],
            },
        ],
    },
    Resource {
        name: "bridges",
        description: "Bridge resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &["res_stasis_recording", "res_stasis_playback"],
        models: include_str!("models/bridges.json"),
        apis: &[
            Api {
                path: "/bridges",
                description: "Active bridges",
                operations: &[
                    Op::new(Get, "list", "List all active bridges in Asterisk.", "List[Bridge]").since(&["12.0.0"]),
                    Op::new(Post, "create", "Create a new bridge.", "Bridge").since(&["12.0.0"]).notes("This bridge persists until it has been shut down, or Asterisk has been shut down.").params(&[Param::query("type", "string", "Comma separated list of bridge type attributes (mixing, holding, dtmf_events, proxy_media, video_sfu, video_single, sdp_label)."), Param::query("bridgeId", "string", "Unique ID to give to the bridge being created."), Param::query("name", "string", "Name to give to the bridge being created."), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the bridge on creation. Each variable is an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in bridge events (defaults to false).   Ex. { \"name\": \"SupportBridge\", \"variables\": {  \"Bridge_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }")]).errors(&[(409, "Bridge with the same bridgeId already exists")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}",
                description: "Individual bridge",
                operations: &[
                    Op::new(Post, "createWithId", "Create a new bridge.", "Bridge").since(&["12.2.0"]).notes("This bridge persists until it has been shut down, or Asterisk has been shut down.").params(&[Param::query("type", "string", "Comma separated list of bridge type attributes (mixing, holding, dtmf_events, proxy_media, video_sfu, video_single, sdp_label) to set."), Param::path("bridgeId", "string", "Unique ID to give to the bridge being created.").required(), Param::query("name", "string", "Set the name of the bridge."), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the bridge on creation. Each variable is an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in bridge events (defaults to false).   Ex. { \"name\": \"SupportBridge\", \"variables\": {  \"Bridge_State\": { \"value\": \"WaitingForAgent\", \"report_events\": true } } }")]).errors(&[(409, "Bridge with the same bridgeId already exists")]),
                    Op::new(Get, "get", "Get bridge details.", "Bridge").since(&["12.0.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required()]).errors(&[(404, "Bridge not found")]),
                    Op::new(Delete, "destroy", "Shut down a bridge.", "void").since(&["12.0.0"]).notes("If any channels are in this bridge, they will be removed and resume whatever they were doing beforehand.").params(&[Param::path("bridgeId", "string", "Bridge's id").required()]).errors(&[(404, "Bridge not found")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/variable",
                description: "Variables on a bridge",
                operations: &[
                    Op::new(Get, "getBridgeVar", "Get the value of a bridge variable or function.", "Variable").since(&["20.20.0", "22.10.0", "23.4.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("variable", "string", "The bridge variable or function to get").required()]).errors(&[(400, "Missing variable parameter."), (404, "Bridge or variable not found"), (409, "Bridge not in a Stasis application")]),
                    Op::new(Post, "setBridgeVar", "Set the value of a bridge variable or function.", "void").since(&["20.20.0", "22.10.0", "23.4.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("variable", "string", "The bridge variable or function to set").required(), Param::query("value", "string", "The value to set the variable to"), Param::query("report_events", "boolean", "Whether this variable should be included in bridge events. Defaults to false.").default_bool(false)]).errors(&[(400, "Missing variable parameter."), (404, "Bridge not found"), (409, "Bridge not in a Stasis application")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/variables",
                description: "Multiple variables on a bridge",
                operations: &[
                    Op::new(Get, "getBridgeVars", "Get the value of multiple bridge variables or functions.", "Variables").since(&["20.20.0", "22.10.0", "23.4.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("variables", "string", "The bridge variables or functions to get").required().multiple()]).errors(&[(400, "Missing variables parameter."), (404, "Bridge or variable not found"), (409, "Bridge not in a Stasis application")]),
                    Op::new(Post, "setBridgeVars", "Set the values of multiple bridge variables or functions.", "void").since(&["20.20.0", "22.10.0", "23.4.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::body("variables", "containers", "The \"variables\" key in the body object holds variable key/value pairs to set on the bridge. Each variable value may be either a string or an object containing \"value\" (string) and optional \"report_events\" (boolean) to include updates for that variable in bridge events (defaults to false). Ex. { \"variables\": { \"Bridge_State\": \"WaitingForAgent\", \"Support_Level\": { \"value\": \"Premium\", \"report_events\": true } } }").required()]).errors(&[(400, "Missing variables parameter."), (404, "Bridge not found"), (409, "Bridge not in a Stasis application")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/addChannel",
                description: "Add a channel to a bridge",
                operations: &[
                    Op::new(Post, "addChannel", "Add a channel to a bridge.", "void").since(&["12.0.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("channel", "string", "Ids of channels to add to bridge").required().multiple(), Param::query("role", "string", "Channel's role in the bridge"), Param::query("absorbDTMF", "boolean", "Absorb DTMF coming from this channel, preventing it to pass through to the bridge").default_bool(false), Param::query("mute", "boolean", "Mute audio from this channel, preventing it to pass through to the bridge").default_bool(false), Param::query("inhibitConnectedLineUpdates", "boolean", "Do not present the identity of the newly connected channel to other bridge members").default_bool(false)]).errors(&[(400, "Channel not found"), (404, "Bridge not found"), (409, "Bridge not in Stasis application; Channel currently recording"), (422, "Channel not in Stasis application")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/removeChannel",
                description: "Remove a channel from a bridge",
                operations: &[
                    Op::new(Post, "removeChannel", "Remove a channel from a bridge.", "void").since(&["12.0.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("channel", "string", "Ids of channels to remove from bridge").required().multiple()]).errors(&[(400, "Channel not found"), (404, "Bridge not found"), (409, "Bridge not in Stasis application"), (422, "Channel not in this bridge")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/videoSource/{channelId}",
                description: "Set a channel as the video source in a multi-party bridge",
                operations: &[
                    Op::new(Post, "setVideoSource", "Set a channel as the video source in a multi-party mixing bridge. This operation has no effect on bridges with two or fewer participants.", "void").since(&["13.13.0", "14.2.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::path("channelId", "string", "Channel's id").required()]).errors(&[(404, "Bridge or Channel not found"), (409, "Channel not in Stasis application"), (422, "Channel not in this Bridge")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/videoSource",
                description: "Removes any explicit video source",
                operations: &[
                    Op::new(Delete, "clearVideoSource", "Removes any explicit video source in a multi-party mixing bridge. This operation has no effect on bridges with two or fewer participants. When no explicit video source is set, talk detection will be used to determine the active video stream.", "void").since(&["13.13.0", "14.2.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required()]).errors(&[(404, "Bridge not found")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/moh",
                description: "Play music on hold to a bridge",
                operations: &[
                    Op::new(Post, "startMoh", "Play music on hold to a bridge or change the MOH class that is playing.", "void").since(&["12.0.0"]).params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("mohClass", "string", "Channel's id")]).errors(&[(404, "Bridge not found"), (409, "Bridge not in Stasis application")]),
                    Op::new(Delete, "stopMoh", "Stop playing music on hold to a bridge.", "void").since(&["12.0.0"]).notes("This will only stop music on hold being played via POST bridges/{bridgeId}/moh.").params(&[Param::path("bridgeId", "string", "Bridge's id").required()]).errors(&[(404, "Bridge not found"), (409, "Bridge not in Stasis application")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/play",
                description: "Play media to the participants of a bridge",
                operations: &[
                    Op::new(Post, "play", "Start playback of media on a bridge.", "Playback").since(&["12.0.0"]).notes("The media URI may be any of a number of URI's. Currently sound:, recording:, number:, digits:, characters:, and tone: URI's are supported. This operation creates a playback resource that can be used to control the playback of media (pause, rewind, fast forward, etc.)").params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("media", "string", "Media URIs to play.").required().multiple(), Param::query("announcer_format", "string", "Format of the 'Anouncer' channel attached to the bridge. Defaults to the format of the channel in the bridge with the highest sampe rate."), Param::query("lang", "string", "For sounds, selects language for sound."), Param::query("offsetms", "int", "Number of milliseconds to skip before playing. Only applies to the first URI if multiple media URIs are specified.").default_int(0).min(0), Param::query("skipms", "int", "Number of milliseconds to skip for forward/reverse operations.").default_int(3000).min(0), Param::query("playbackId", "string", "Playback Id.")]).errors(&[(404, "Bridge not found"), (409, "Bridge not in a Stasis application"), (422, "The format specified is unknown on this system")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/play/{playbackId}",
                description: "Play media to a bridge",
                operations: &[
                    Op::new(Post, "playWithId", "Start playback of media on a bridge.", "Playback").since(&["12.3.0"]).notes("The media URI may be any of a number of URI's. Currently sound:, recording:, number:, digits:, characters:, and tone: URI's are supported. This operation creates a playback resource that can be used to control the playback of media (pause, rewind, fast forward, etc.)").params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::path("playbackId", "string", "Playback ID.").required(), Param::query("media", "string", "Media URIs to play.").required().multiple(), Param::query("announcer_format", "string", "Format of the 'Anouncer' channel attached to the bridge. Defaults to the format of the channel in the bridge with the highest sampe rate."), Param::query("lang", "string", "For sounds, selects language for sound."), Param::query("offsetms", "int", "Number of milliseconds to skip before playing. Only applies to the first URI if multiple media URIs are specified.").default_int(0).min(0), Param::query("skipms", "int", "Number of milliseconds to skip for forward/reverse operations.").default_int(3000).min(0)]).errors(&[(404, "Bridge not found"), (409, "Bridge not in a Stasis application"), (422, "The format specified is unknown on this system")]),
                ],
            },
            Api {
                path: "/bridges/{bridgeId}/record",
                description: "Record audio on a bridge",
                operations: &[
                    Op::new(Post, "record", "Start a recording.", "LiveRecording").since(&["12.0.0"]).notes("This records the mixed audio from all channels participating in this bridge.").params(&[Param::path("bridgeId", "string", "Bridge's id").required(), Param::query("name", "string", "Recording's filename").required(), Param::query("format", "string", "Format to encode audio in").required(), Param::query("recorder_format", "string", "Format of the 'Recorder' channel attached to the bridge. Defaults to the same format as the 'format' parameter."), Param::query("maxDurationSeconds", "int", "Maximum duration of the recording, in seconds. 0 for no limit.").default_int(0).min(0), Param::query("maxSilenceSeconds", "int", "Maximum duration of silence, in seconds. 0 for no limit.").default_int(0).min(0), Param::query("ifExists", "string", "Action to take if a recording with the same name already exists.").default_str("fail").values(&["fail", "overwrite", "append"]), Param::query("beep", "boolean", "Play beep when recording begins").default_bool(false), Param::query("terminateOn", "string", "DTMF input to terminate recording.").default_str("none").values(&["none", "any", "*", "#"])]).errors(&[(400, "Invalid parameters"), (404, "Bridge not found"), (409, "Bridge is not in a Stasis application; A recording with the same name already exists on the system and can not be overwritten because it is in progress or ifExists=fail"), (422, "The format specified is unknown on this system")]),
                ],
            },
        ],
    },
    Resource {
        name: "recordings",
        description: "Recording resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &["res_stasis_recording"],
        models: include_str!("models/recordings.json"),
        apis: &[
            Api {
                path: "/recordings/stored",
                description: "Recordings",
                operations: &[
                    Op::new(Get, "listStored", "List recordings that are complete.", "List[StoredRecording]").since(&["12.0.0"]),
                ],
            },
            Api {
                path: "/recordings/stored/{recordingName}",
                description: "Individual recording",
                operations: &[
                    Op::new(Get, "getStored", "Get a stored recording's details.", "StoredRecording").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found")]),
                    Op::new(Delete, "deleteStored", "Delete a stored recording.", "void").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found")]),
                ],
            },
            Api {
                path: "/recordings/stored/{recordingName}/file",
                description: "The actual file associated with the stored recording",
                operations: &[
                    Op::new(Get, "getStoredFile", "Get the file associated with the stored recording.", "binary").since(&["14.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(403, "The recording file could not be opened"), (404, "Recording not found")]),
                ],
            },
            Api {
                path: "/recordings/stored/{recordingName}/copy",
                description: "Copy an individual recording",
                operations: &[
                    Op::new(Post, "copyStored", "Copy a stored recording.", "StoredRecording").since(&["12.5.0"]).params(&[Param::path("recordingName", "string", "The name of the recording to copy").required(), Param::query("destinationRecordingName", "string", "The destination name of the recording").required()]).errors(&[(404, "Recording not found"), (409, "A recording with the same name already exists on the system")]),
                ],
            },
            Api {
                path: "/recordings/live/{recordingName}",
                description: "A recording that is in progress",
                operations: &[
                    Op::new(Get, "getLive", "List live recordings.", "LiveRecording").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found")]),
                    Op::new(Delete, "cancel", "Stop a live recording and discard it.", "void").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found")]),
                ],
            },
            Api {
                path: "/recordings/live/{recordingName}/stop",
                description: "",
                operations: &[
                    Op::new(Post, "stop", "Stop a live recording and store it.", "void").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found")]),
                ],
            },
            Api {
                path: "/recordings/live/{recordingName}/pause",
                description: "",
                operations: &[
                    Op::new(Post, "pause", "Pause a live recording.", "void").since(&["12.0.0"]).notes("Pausing a recording suspends silence detection, which will be restarted when the recording is unpaused. Paused time is not included in the accounting for maxDurationSeconds.").params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found"), (409, "Recording not in session")]),
                    Op::new(Delete, "unpause", "Unpause a live recording.", "void").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found"), (409, "Recording not in session")]),
                ],
            },
            Api {
                path: "/recordings/live/{recordingName}/mute",
                description: "",
                operations: &[
                    Op::new(Post, "mute", "Mute a live recording.", "void").since(&["12.0.0"]).notes("Muting a recording suspends silence detection, which will be restarted when the recording is unmuted.").params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found"), (409, "Recording not in session")]),
                    Op::new(Delete, "unmute", "Unmute a live recording.", "void").since(&["12.0.0"]).params(&[Param::path("recordingName", "string", "The name of the recording").required()]).errors(&[(404, "Recording not found"), (409, "Recording not in session")]),
                ],
            },
        ],
    },
    Resource {
        name: "sounds",
        description: "Sound resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &[],
        models: include_str!("models/sounds.json"),
        apis: &[
            Api {
                path: "/sounds",
                description: "Sounds",
                operations: &[
                    Op::new(Get, "list", "List all sounds.", "List[Sound]").since(&["12.0.0"]).params(&[Param::query("lang", "string", "Lookup sound for a specific language."), Param::query("format", "string", "Lookup sound in a specific format.")]),
                ],
            },
            Api {
                path: "/sounds/{soundId}",
                description: "Individual sound",
                operations: &[
                    Op::new(Get, "get", "Get a sound's details.", "Sound").since(&["12.0.0"]).params(&[Param::path("soundId", "string", "Sound's id").required()]),
                ],
            },
        ],
    },
    Resource {
        name: "playbacks",
        description: "Playback control resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &["res_stasis_playback"],
        models: include_str!("models/playbacks.json"),
        apis: &[
            Api {
                path: "/playbacks/{playbackId}",
                description: "Control object for a playback operation.",
                operations: &[
                    Op::new(Get, "get", "Get a playback's details.", "Playback").since(&["12.0.0"]).params(&[Param::path("playbackId", "string", "Playback's id").required()]).errors(&[(404, "The playback cannot be found")]),
                    Op::new(Delete, "stop", "Stop a playback.", "void").since(&["12.0.0"]).params(&[Param::path("playbackId", "string", "Playback's id").required()]).errors(&[(404, "The playback cannot be found")]),
                ],
            },
            Api {
                path: "/playbacks/{playbackId}/control",
                description: "Control object for a playback operation.",
                operations: &[
                    Op::new(Post, "control", "Control a playback.", "void").since(&["12.0.0"]).params(&[Param::path("playbackId", "string", "Playback's id").required(), Param::query("operation", "string", "Operation to perform on the playback.").required().values(&["restart", "pause", "unpause", "reverse", "forward"])]).errors(&[(400, "The provided operation parameter was invalid"), (404, "The playback cannot be found"), (409, "The operation cannot be performed in the playback's current state")]),
                ],
            },
        ],
    },
    Resource {
        name: "deviceStates",
        description: "Device state resources",
        swagger_version: "1.1",
        since: &["12.0.0"],
        requires_modules: &["res_stasis_device_state"],
        models: include_str!("models/deviceStates.json"),
        apis: &[
            Api {
                path: "/deviceStates",
                description: "Device states",
                operations: &[
                    Op::new(Get, "list", "List all ARI controlled device states.", "List[DeviceState]").since(&["12.0.0"]),
                ],
            },
            Api {
                path: "/deviceStates/{deviceName}",
                description: "Device state",
                operations: &[
                    Op::new(Get, "get", "Retrieve the current state of a device.", "DeviceState").since(&["12.0.0"]).params(&[Param::path("deviceName", "string", "Name of the device").required()]),
                    Op::new(Put, "update", "Change the state of a device controlled by ARI. (Note - implicitly creates the device state).", "void").since(&["12.0.0"]).params(&[Param::path("deviceName", "string", "Name of the device").required(), Param::query("deviceState", "string", "Device state value").required().values(&["NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING", "RINGINUSE", "ONHOLD"])]).errors(&[(404, "Device name is missing"), (409, "Uncontrolled device specified")]),
                    Op::new(Delete, "delete", "Destroy a device-state controlled by ARI.", "void").since(&["12.0.0"]).params(&[Param::path("deviceName", "string", "Name of the device").required()]).errors(&[(404, "Device name is missing"), (409, "Uncontrolled device specified")]),
                ],
            },
        ],
    },
    Resource {
        name: "mailboxes",
        description: "Mailboxes resources",
        swagger_version: "1.1",
        since: &["12.1.0"],
        requires_modules: &["res_stasis_mailbox"],
        models: include_str!("models/mailboxes.json"),
        apis: &[
            Api {
                path: "/mailboxes",
                description: "Mailboxes",
                operations: &[
                    Op::new(Get, "list", "List all mailboxes.", "List[Mailbox]").since(&["12.1.0"]),
                ],
            },
            Api {
                path: "/mailboxes/{mailboxName}",
                description: "Mailbox state",
                operations: &[
                    Op::new(Get, "get", "Retrieve the current state of a mailbox.", "Mailbox").since(&["12.1.0"]).params(&[Param::path("mailboxName", "string", "Name of the mailbox").required()]).errors(&[(404, "Mailbox not found")]),
                    Op::new(Put, "update", "Change the state of a mailbox. (Note - implicitly creates the mailbox).", "void").since(&["12.1.0"]).params(&[Param::path("mailboxName", "string", "Name of the mailbox").required(), Param::query("oldMessages", "int", "Count of old messages in the mailbox").required(), Param::query("newMessages", "int", "Count of new messages in the mailbox").required()]).errors(&[(404, "Mailbox not found")]),
                    Op::new(Delete, "delete", "Destroy a mailbox.", "void").since(&["12.1.0"]).params(&[Param::path("mailboxName", "string", "Name of the mailbox").required()]).errors(&[(404, "Mailbox not found")]),
                ],
            },
        ],
    },
    Resource {
        name: "events",
        description: "WebSocket resource",
        swagger_version: "1.2",
        since: &["12.0.0"],
        requires_modules: &["res_http_websocket"],
        models: include_str!("models/events.json"),
        apis: &[
            Api {
                path: "/events",
                description: "Events from Asterisk to applications",
                operations: &[
                    Op::new(Get, "eventWebsocket", "WebSocket connection for events.", "Message").since(&["12.0.0"]).websocket().params(&[Param::query("app", "string", "Applications to subscribe to.").required().multiple(), Param::query("subscribeAll", "boolean", "Subscribe to all Asterisk events. If provided, the applications listed will be subscribed to all events, effectively disabling the application specific subscriptions. Default is 'false'.")]),
                ],
            },
            Api {
                path: "/events/user/{eventName}",
                description: "Stasis application user events",
                operations: &[
                    Op::new(Post, "userEvent", "Generate a user event.", "void").since(&["12.3.0"]).params(&[Param::path("eventName", "string", "Event name").required(), Param::query("application", "string", "The name of the application that will receive this event").required(), Param::query("source", "string", "URI for event source (channel:{channelId}, bridge:{bridgeId}, endpoint:{tech}/{resource}, deviceState:{deviceName}").multiple(), Param::body("variables", "containers", "The \"variables\" key in the body object holds custom key/value pairs to add to the user event. Ex. { \"variables\": { \"key\": \"value\" } }")]).errors(&[(404, "Application does not exist."), (422, "Event source not found."), (400, "Invalid even tsource URI or userevent data.")]),
                ],
            },
            Api {
                path: "/events/claim",
                description: "Broadcast channel claim operations",
                operations: &[
                    Op::new(Post, "claimChannel", "Claim a broadcast channel for this application.", "void").since(&["20.17.0", "22.7.0", "23.1.0"]).notes("Atomically claims a channel that is in broadcast state. Only the first claim succeeds.").params(&[Param::query("channelId", "string", "The ID of the channel to claim").required(), Param::query("application", "string", "The name of the application claiming the channel").required()]).errors(&[(404, "Channel not found or not in broadcast state."), (409, "Channel has already been claimed by another application.")]),
                ],
            },
        ],
    },
    Resource {
        name: "applications",
        description: "Stasis application resources",
        swagger_version: "1.1",
        since: &["13.0.0"],
        requires_modules: &[],
        models: include_str!("models/applications.json"),
        apis: &[
            Api {
                path: "/applications",
                description: "Stasis applications",
                operations: &[
                    Op::new(Get, "list", "List all applications.", "List[Application]").since(&["13.0.0"]),
                ],
            },
            Api {
                path: "/applications/{applicationName}",
                description: "Stasis application",
                operations: &[
                    Op::new(Get, "get", "Get details of an application.", "Application").since(&["13.0.0"]).params(&[Param::path("applicationName", "string", "Application's name").required()]).errors(&[(404, "Application does not exist.")]),
                ],
            },
            Api {
                path: "/applications/{applicationName}/subscription",
                description: "Stasis application",
                operations: &[
                    Op::new(Post, "subscribe", "Subscribe an application to a event source.", "Application").since(&["13.0.0"]).notes("Returns the state of the application after the subscriptions have changed").params(&[Param::path("applicationName", "string", "Application's name").required(), Param::query("eventSource", "string", "URI for event source (channel:{channelId}, bridge:{bridgeId}, endpoint:{tech}[/{resource}], deviceState:{deviceName}").required().multiple()]).errors(&[(400, "Missing parameter."), (404, "Application does not exist."), (422, "Event source does not exist.")]),
                    Op::new(Delete, "unsubscribe", "Unsubscribe an application from an event source.", "Application").since(&["13.0.0"]).notes("Returns the state of the application after the subscriptions have changed").params(&[Param::path("applicationName", "string", "Application's name").required(), Param::query("eventSource", "string", "URI for event source (channel:{channelId}, bridge:{bridgeId}, endpoint:{tech}[/{resource}], deviceState:{deviceName}").required().multiple()]).errors(&[(400, "Missing parameter; event source scheme not recognized."), (404, "Application does not exist."), (409, "Application not subscribed to event source."), (422, "Event source does not exist.")]),
                ],
            },
            Api {
                path: "/applications/{applicationName}/eventFilter",
                description: "Stasis application",
                operations: &[
                    Op::new(Put, "filter", "Filter application events types.", "Application").since(&["13.26.0", "16.3.0"]).notes("Allowed and/or disallowed event type filtering can be done. The body (parameter) should specify a JSON key/value object that describes the type of event filtering needed. One, or both of the following keys can be designated:<br /><br />\"allowed\" - Specifies an allowed list of event types<br />\"disallowed\" - Specifies a disallowed list of event types<br /><br />Further, each of those key's value should be a JSON array that holds zero, or more JSON key/value objects. Each of these objects must contain the following key with an associated value:<br /><br />\"type\" - The type name of the event to filter<br /><br />The value must be the string name (case sensitive) of the event type that needs filtering. For example:<br /><br />{ \"allowed\": [ { \"type\": \"StasisStart\" }, { \"type\": \"StasisEnd\" } ] }<br /><br />As this specifies only an allowed list, then only those two event type messages are sent to the application. No other event messages are sent.<br /><br />The following rules apply:<br /><br />* If the body is empty, both the allowed and disallowed filters are set empty.<br />* If both list types are given then both are set to their respective values (note, specifying an empty array for a given type sets that type to empty).<br />* If only one list type is given then only that type is set. The other type is not updated.<br />* An empty \"allowed\" list means all events are allowed.<br />* An empty \"disallowed\" list means no events are disallowed.<br />* Disallowed events take precedence over allowed events if the event type is specified in both lists.").params(&[Param::path("applicationName", "string", "Application's name").required(), Param::body("filter", "object", "Specify which event types to allow/disallow")]).errors(&[(400, "Bad request."), (404, "Application does not exist.")]),
                ],
            },
        ],
    },
];
