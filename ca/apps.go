package ca

import "strings"

// Well-known application ids used by tests, the demo tenant and the What If
// command line. They come from Microsoft's "Verify first-party Microsoft
// applications in sign-in reports" table.
const (
	AppExchangeOnline           = "00000002-0000-0ff1-ce00-000000000000"
	AppSharePointOnline         = "00000003-0000-0ff1-ce00-000000000000"
	AppTeamsServices            = "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"
	AppOffice365Portal          = "00000006-0000-0ff1-ce00-000000000000"
	AppMicrosoftGraph           = "00000003-0000-0000-c000-000000000000"
	AppAzureServiceManagement   = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
	AppAzurePortal              = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
	AppExchangeAdminCenter      = "497effe9-df71-4043-a8bb-14cf78c4b63b"
	AppSecurityComplianceCenter = "80ccca67-54bd-44ab-8625-4b79c4dc7775"
)

// office365Apps lists the members of the Office365 grouping whose
// application id Microsoft documents. The grouping itself is defined in
// "Apps included in Conditional Access Office 365 app suite"
// (entra-docs reference-office-365-application-contents.md), which names the
// services but not their ids; the ids below are those the "Verify first-party
// Microsoft applications in sign-in reports" table gives for the same names.
// Services in the suite without a documented id are left out, so a policy that
// names one of them by id is only matched by that id, never by the grouping.
//
// Microsoft Graph (00000003-0000-0000-c000-000000000000) is deliberately not
// here: "Admins can assign a Conditional Access policy to Microsoft cloud apps
// if the service principal appears in their tenant, except for Microsoft
// Graph. Microsoft Graph functions as an umbrella resource."
var office365Apps = []string{
	AppExchangeOnline,                      // Office 365 Exchange Online
	AppSharePointOnline,                    // Office 365 SharePoint Online
	"00000004-0000-0ff1-ce00-000000000000", // Skype for Business Online
	"00000005-0000-0ff1-ce00-000000000000", // Viva Engage (formerly Yammer)
	AppOffice365Portal,                     // Microsoft Office 365 Portal
	"00000007-0000-0ff1-ce00-000000000000", // Microsoft Exchange Online Protection
	AppTeamsServices,                       // Microsoft Teams Services
	"1fec8e78-bce4-4aaf-ab1b-5451cc387264", // Microsoft Teams
	"5e3ce6c0-2b1f-4285-8d4b-75ee78787346", // Microsoft Teams Web Client
	"c9a559d2-7aab-4f13-a6ed-e7e9c52aec87", // Microsoft Forms
	"d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office
	"cf53fce8-def6-4aeb-8d30-b158e7b1cf83", // Microsoft Stream Portal
	"95de633a-083e-42f5-b444-a4295d8e9314", // Microsoft Whiteboard Services
	"4345a7b9-9a63-4910-a426-35363201d503", // O365 Suite UX
	"66a88757-258c-4c72-893c-3e8bed4d6899", // Office 365 Search Service
	"94c63fef-13a3-47bc-8074-75af8c65887a", // Office Delve
	"93d53678-613d-4013-afc1-62e9e444a0a5", // Office Online Add-in SSO
	"243c63a3-247d-41c5-9d83-7788c43f1c43", // Office Online Core SSO
	"4b233688-031c-404b-9a80-a4f3f2351f90", // Office.com
	"89bee1f7-5e6e-4d8a-9f3d-ecd601259da7", // Office365 Shell WCSS-Client
	"0f698dd4-f011-4d23-a33e-b36416dcb1e6", // OfficeClientService
	"4765445b-32c6-49b0-83e6-1d93765276ca", // OfficeHome
	"ab9b8c07-8f02-4f72-87fa-80105867a763", // OneDrive SyncEngine
	"2d4d3d8e-2be3-4bef-9f87-7875a61c29de", // OneNote
	"08e18876-6177-487e-b8b5-cf950c1e598c", // SharePoint Online Web Client Extensibility
	"905fcf26-4eb7-48a0-9ff0-8dcc7194b5ba", // Sway
	"944f0bd1-117b-4b1c-af26-804ed95e767e", // Media Analysis and Transformation Service
	"0cd196ee-71bf-4fd6-a57c-b491ffd4fb1e", // Media Analysis and Transformation Service
	AppSecurityComplianceCenter,            // Protection Center
}

// adminPortalApps lists the Microsoft Admin Portals grouping exactly as
// "Conditional Access: Target resources" documents it: "The following
// applications comprise the Microsoft Admin Portals: Exchange Admin Center
// ..., Azure portal ..., Microsoft Office 365 Portal ..., Microsoft 365
// Security And Compliance Center (Protection Center)".
//
// Windows Azure Service Management API (797f4846-...) is not a member: the
// same page says "The app grouping doesn't include the backend services that
// those portals might call or depend on", and documents Service Management as
// a separate target of its own.
var adminPortalApps = []string{
	AppExchangeAdminCenter,      // Exchange Admin Center
	AppAzurePortal,              // Azure portal (also covers the Entra admin center)
	AppOffice365Portal,          // Microsoft Office 365 Portal (Microsoft 365 admin center)
	AppSecurityComplianceCenter, // Microsoft 365 Security and Compliance Center
}

// Grouping membership flags, looked up once per sign-in application.
const (
	inOffice365 uint8 = 1 << iota
	inAdminPortals
)

// appGroups maps a lower-case application id to the groupings it belongs to.
var appGroups = func() map[string]uint8 {
	m := make(map[string]uint8, len(office365Apps)+len(adminPortalApps))
	for _, id := range office365Apps {
		m[id] |= inOffice365
	}
	for _, id := range adminPortalApps {
		m[id] |= inAdminPortals
	}
	return m
}()

// Office365Apps returns the documented member application ids of the
// Office365 grouping (a copy: callers may keep or change it).
func Office365Apps() []string { return append([]string(nil), office365Apps...) }

// AdminPortalApps returns the member application ids of the
// MicrosoftAdminPortals grouping (a copy).
func AdminPortalApps() []string { return append([]string(nil), adminPortalApps...) }

// groupsOf reports which groupings an application id belongs to.
func groupsOf(appID string) uint8 { return appGroups[strings.ToLower(appID)] }
