"""The CI operation table: every Cloud Infinite call the official SDKs send, implemented or not.

One row per operation shape, read from the SDK sources (cos-python-sdk-v5 ``cos_client.py``,
``ai_recognition.py``, ``meta_insight.py``, ``intelligent_speech.py``; cos-go-sdk-v5 ``ci*.go``;
cos-java-sdk-v5 ``COSClient.java``; cos-nodejs-sdk-v5 ``demo/demo.js``). ``cosflow.api.ci`` maps a
row's ``name`` to a handler; a row without one is answered 501 ``NotImplemented``. A request that
matches a row is never served by the object API. ``ci_routes`` says what the columns mean.
"""

from __future__ import annotations

from collections.abc import Mapping

from cosflow.api.ci_routes import (
    CiRoute,
    Host,
    Kind,
    RouteIndex,
    bucket_sub,
    ci_process,
    processing,
    reserved,
)

_MEDIA = (
    reserved("POST", "/workflow", "create_workflow", "CreateMediaWorkflow"),
    reserved("GET", "/workflow", "list_workflows", "DescribeMediaWorkflows", "ids", "pageNumber"),
    reserved("GET", "/workflow/<WorkflowId>", "get_workflow", "DescribeMediaWorkflow"),
    reserved("PUT", "/workflow/<WorkflowId>", "update_workflow", "UpdateMediaWorkflow / ?active / ?paused"),
    reserved("DELETE", "/workflow/<WorkflowId>", "delete_workflow", "DeleteMediaWorkflow"),
    reserved("POST", "/triggerworkflow", "trigger_workflow", "TriggerWorkflow", "workflowId"),
    reserved("GET", "/workflowexecution", "list_executions", "DescribeWorkflowExecutions", "workflowId"),
    reserved("GET", "/workflowexecution/<RunId>", "get_execution", "DescribeWorkflowExecution"),
    reserved("POST", "/template", "create_template", "CreateMediaTemplate"),
    reserved("GET", "/template", "list_templates", "DescribeMediaTemplates", "pageNumber", "category", "ids"),
    reserved("PUT", "/template/<TemplateId>", "update_template", "UpdateMediaTemplate"),
    reserved("DELETE", "/template/<TemplateId>", "delete_template", "DeleteMediaTemplate"),
    reserved("GET", "/queue", "list_queues", "DescribeMediaQueues", "state", "queueIds"),
    reserved("PUT", "/queue/<QueueId>", "update_queue", "UpdateMediaQueue"),
    reserved("GET", "/picqueue", "list_pic_queues", "DescribePicProcessQueues", "state", "queueIds"),
    reserved("PUT", "/picqueue/<QueueId>", "update_pic_queue", "UpdatePicProcessQueue"),
    reserved("POST", "/picqueue/<QueueId>", "update_pic_queue", "UpdatePicProcessQueue"),  # the Node.js demo
    reserved("POST", "/jobs", "create_jobs", "CreateMediaJobs"),
    reserved("GET", "/jobs", "list_jobs", "DescribeMediaJobs", "tag"),
    reserved("GET", "/jobs/<JobIds>", "get_jobs", "DescribeMediaJob"),
    reserved("PUT", "/jobs/<JobId>", "cancel_job", "CancelMediaJob", "cancel"),
    reserved("POST", "/pic_jobs", "create_pic_jobs", "CreatePicProcessJobs"),
    reserved("GET", "/pic_jobs", "list_pic_jobs", "DescribePicProcessJobs", "tag"),
    reserved("GET", "/pic_jobs/<Ids>", "get_pic_jobs", "DescribePicProcessJob"),
    reserved("POST", "/ai_jobs", "create_ai_jobs", "CreateAIJobs"),
    reserved("GET", "/ai_jobs", "list_ai_jobs", "DescribeAIJobs", "tag"),
    reserved("GET", "/ai_jobs/<Ids>", "get_ai_jobs", "DescribeAIJob"),
    reserved("POST", "/doc_jobs", "create_doc_jobs", "CreateDocProcessJobs"),
    reserved("GET", "/doc_jobs", "list_doc_jobs", "DescribeDocProcessJobs", "tag"),
    reserved("GET", "/doc_jobs/<Ids>", "get_doc_jobs", "DescribeDocProcessJob"),
    reserved("POST", "/file_jobs", "create_file_jobs", "CreateFileProcessJob"),
    reserved("GET", "/file_jobs/<Ids>", "get_file_jobs", "DescribeFileProcessJob"),
    reserved("POST", "/asr_jobs", "create_asr_jobs", "CreateASRJobs"),
    reserved("GET", "/asr_jobs", "list_asr_jobs", "DescribeASRJobs", "tag"),
    reserved("GET", "/asr_jobs/<Ids>", "get_asr_jobs", "DescribeASRJob"),
    reserved("GET", "/ai_queue", "list_ai_queues", "DescribeAIProcessQueues", "state", "queueIds"),
    reserved("PUT", "/ai_queue/<QueueId>", "update_ai_queue", "UpdateAIProcessQueue"),
    reserved("GET", "/asrqueue", "list_asr_queues", "DescribeASRProcessQueues", "state", "queueIds"),
    reserved("PUT", "/asrqueue/<QueueId>", "update_asr_queue", "UpdateASRProcessQueue"),
    reserved("GET", "/docqueue", "list_doc_queues", "DescribeDocProcessQueues", "state", "queueIds"),
    reserved("PUT", "/docqueue/<QueueId>", "update_doc_queue", "UpdateDocProcessQueue"),
    reserved("GET", "/file_queue", "list_file_queues", "DescribeFileProcessQueues", "state", "queueIds"),
    reserved("PUT", "/file_queue/<QueueId>", "update_file_queue", "UpdateFileProcessQueue"),
    reserved("POST", "/file_queue/<QueueId>", "update_file_queue", "UpdateFileProcessQueue"),
    reserved("POST", "/inventorytriggerjob", "create_inventory_trigger_job", "CreateInventoryTriggerJob"),
    reserved(
        "GET",
        "/inventorytriggerjob",
        "list_inventory_trigger_jobs",
        "DescribeInventoryTriggerJobs",
        "states",
        "type",
        "size",
    ),
    reserved("GET", "/inventorytriggerjob/<Id>", "get_inventory_trigger_job", "DescribeInventoryTriggerJob"),
    reserved("PUT", "/inventorytriggerjob/<Id>", "cancel_inventory_trigger_job", "CancelInventoryTriggerJob", "cancel"),
    reserved("POST", "/snapshot", "generate_snapshot", "GenerateSnapshot"),
    reserved("POST", "/cisnapshot", "generate_ci_snapshot", "PostCISnapshot"),
    reserved("POST", "/mediainfo", "generate_media_info", "GenerateMediaInfo"),
    reserved("POST", "/avinfo", "generate_av_info", "GenerateAVInfo"),
    reserved("GET", "/doccompare", "doc_compare", "CIDocCompare", "object", "comparePath"),
    reserved("GET", "/getplaylist", "get_play_list", "GetPlayList", "object"),
    reserved("GET", "/dnadb", "list_dna_dbs", "DescribeMediaDnaDbs", object_host=False),
    reserved("GET", "/dnadb_files", "list_dna_db_files", "DescribeMediaDnaDbFiles", object_host=False),
    reserved("POST", "/posterproduction/template", "create_poster_template", "CreatePosterproductionTemplate"),
    reserved(
        "GET",
        "/posterproduction/template",
        "list_poster_templates",
        "DescribePosterproductionTemplates",
        object_host=False,
    ),
    reserved(
        "GET",
        "/posterproduction/template/<Name>",
        "get_poster_template",
        "DescribePosterproductionTemplate",
        object_host=False,
    ),
)

#: Bucket-level switches and listings. Python sends most of these with no bucket (bare host).
_SERVICE = (
    reserved(
        "GET", "/mediabucket", "list_media_buckets", "DescribeMediaBuckets", "regions", "pageNumber", service=True
    ),
    reserved("POST", "/mediabucket", "open_media_bucket", "CreateMediaProcessBucket", service=True),
    reserved(
        "GET", "/picbucket", "list_pic_buckets", "DescribePicProcessBuckets", "regions", "pageNumber", service=True
    ),
    reserved("POST", "/picbucket", "open_pic_bucket", "CreatePicProcessBucket", service=True),
    reserved("DELETE", "/picbucket", "close_pic_bucket", "DeletePicProcessBucket", object_host=False, service=True),
    reserved(
        "GET", "/docbucket", "list_doc_buckets", "DescribeDocProcessBuckets", "regions", "pageNumber", service=True
    ),
    reserved("POST", "/docbucket", "open_doc_bucket", "CreateDocProcessBucket", service=True),
    reserved(
        "GET", "/asrbucket", "list_asr_buckets", "DescribeASRProcessBuckets", "regions", "pageNumber", service=True
    ),
    reserved("POST", "/asrbucket", "open_asr_bucket", "CreateASRProcessBucket", service=True),
    reserved("DELETE", "/asrbucket", "close_asr_bucket", "DeleteASRProcessBucket", object_host=False, service=True),
    reserved("GET", "/ai_bucket", "list_ai_buckets", "DescribeAIProcessBuckets", "regions", "pageNumber", service=True),
    reserved("POST", "/ai_bucket", "open_ai_bucket", "CreateAIProcessBucket", service=True),
    reserved("DELETE", "/ai_bucket", "close_ai_bucket", "DeleteAIProcessBucket", object_host=False, service=True),
    reserved(
        "GET", "/file_bucket", "list_file_buckets", "DescribeFileProcessBuckets", "regions", "pageNumber", service=True
    ),
    reserved("POST", "/file_bucket", "open_file_bucket", "CreateFileProcessBucket", service=True),
    reserved("GET", "/cibuckets", "list_ci_buckets", "DescribeCIBuckets", object_host=False, service=True),
    reserved("POST", "/playKey", "create_play_key", "CreateMediaPlayKey", service=True),
    reserved("GET", "/playKey", "get_play_key", "DescribeMediaPlayKey", object_host=False, service=True),
    reserved(
        "PUT", "/playKey", "update_play_key", "UpdateMediaPlayKey", "masterPlayKey", "backupPlayKey", service=True
    ),
    reserved("POST", "/ImageSearchBucket", "open_image_search", "CreateImageSearchBucket", service=True),
    reserved("POST", "/FaceSearchBucket", "open_face_search", "CreateFaceSearchBucket", service=True),
)

_AUDITING = (
    *(
        row
        for kind, api in [
            ("image", "ImageAuditing"),
            ("video", "VideoAuditing"),
            ("audio", "AudioAuditing"),
            ("text", "TextAuditing"),
            ("document", "DocumentAuditing"),
            ("webpage", "WebpageAuditing"),
        ]
        for row in (
            reserved("POST", f"/{kind}/auditing", f"create_{kind}_auditing", f"Create{api}Job"),
            reserved("GET", f"/{kind}/auditing/<Id>", f"get_{kind}_auditing", f"Describe{api}Job"),
        )
    ),
    reserved("POST", "/video/cancel_auditing/<Id>", "cancel_live_auditing", "CancelLiveVideoAuditing"),
    reserved("POST", "/virus/detect", "create_virus_detect", "CreateVirusDetectJob"),
    reserved("GET", "/virus/detect/<Id>", "get_virus_detect", "DescribeVirusDetectJob"),
    reserved("POST", "/report/badcase", "report_badcase", "ReportBadcase"),
    reserved("POST", "/audit/strategy", "create_audit_strategy", "AddAuditingStrategy"),
    reserved("GET", "/audit/strategy", "list_audit_strategies", "DescribeAuditingStrategyList", object_host=False),
    reserved("GET", "/audit/strategy/<Name>", "get_audit_strategy", "DescribeAuditingStrategy", object_host=False),
    reserved("PUT", "/audit/strategy/<Name>", "update_audit_strategy", "UpdateAuditingStrategy", object_host=False),
    reserved("POST", "/audit/textlib", "create_audit_textlib", "AddAuditingTextLib"),
    reserved("GET", "/audit/textlib", "list_audit_textlibs", "DescribeAuditingTextLib", object_host=False),
    reserved("PUT", "/audit/textlib/<Name>", "update_audit_textlib", "UpdateAuditingTextLib", object_host=False),
    reserved("DELETE", "/audit/textlib/<Name>", "delete_audit_textlib", "DeleteAuditingTextLib", object_host=False),
    reserved("POST", "/audit/textlib/<Name>/keyword", "add_audit_keyword", "AddAuditingLibKeyWord"),
    reserved(
        "GET", "/audit/textlib/<Name>/keyword", "list_audit_keywords", "DescribeAuditingKeyWordList", object_host=False
    ),
    reserved("POST", "/audit/textlib/<Name>/deletekeyword", "delete_audit_keyword", "DeleteAuditingKeyWord"),
)

_SPEECH = (
    reserved("POST", "/asrhotvocabtable", "create_asr_vocabulary", "CreateAsrVocabularyTable"),
    # The SDKs send the update as a bare PUT: on an object host an object named exactly
    # ``asrhotvocabtable`` cannot be written by PUT (docs/design-choices.md "Routing").
    reserved("PUT", "/asrhotvocabtable", "update_asr_vocabulary", "UpdateAsrVocabularyTable"),
    reserved("GET", "/asrhotvocabtable", "list_asr_vocabularies", "DescribeAsrVocabularyTables", "offset", "limit"),
    # Table ids are 32 hex digits, so asrhotvocabtable/readme.txt stays an object.
    reserved("GET", "/asrhotvocabtable/<TableId>", "get_asr_vocabulary", "DescribeAsrVocabularyTable"),
    reserved("DELETE", "/asrhotvocabtable/<TableId>", "delete_asr_vocabulary", "DeleteAsrVocabularyTable"),
)

#: MetaInsight: ``<appid>.ci.<region>`` in the Go/Java/Node SDKs, the bare host in Python's.
_META_INSIGHT = tuple(
    reserved(method, template, name, api, object_host=False, service=True)
    for method, template, name, api in [
        ("POST", "/dataset", "create_dataset", "CreateDataset"),
        ("PUT", "/dataset", "update_dataset", "UpdateDataset"),
        ("DELETE", "/dataset", "delete_dataset", "DeleteDataset"),
        ("GET", "/dataset", "get_dataset", "DescribeDataset"),
        ("GET", "/datasets", "list_datasets", "DescribeDatasets"),
        ("POST", "/datasetbinding", "create_dataset_binding", "CreateDatasetBinding"),
        ("DELETE", "/datasetbinding", "delete_dataset_binding", "DeleteDatasetBinding"),
        ("GET", "/datasetbinding", "get_dataset_binding", "DescribeDatasetBinding"),
        ("GET", "/datasetbindings", "list_dataset_bindings", "DescribeDatasetBindings"),
        ("POST", "/filemeta", "create_file_meta_index", "CreateFileMetaIndex"),
        ("PUT", "/filemeta", "update_file_meta_index", "UpdateFileMetaIndex"),
        ("DELETE", "/filemeta", "delete_file_meta_index", "DeleteFileMetaIndex"),
        ("GET", "/filemeta", "get_file_meta_index", "DescribeFileMetaIndex"),
        ("POST", "/datasetquery/simple", "dataset_simple_query", "DatasetSimpleQuery"),
        ("POST", "/datasetquery/facesearch", "dataset_face_search", "DatasetFaceSearch"),
        ("POST", "/datasetquery/imagesearch", "dataset_image_search", "SearchImage"),
        ("POST", "/datasetquery/hybridsearch", "dataset_hybrid_search", "DatasetHybridSearch"),
    ]
)

_BUCKET = (
    bucket_sub("PUT", "style", "put_image_style", "AddImageStyle"),
    bucket_sub("GET", "style", "get_image_style", "DescribeImageStyles"),
    bucket_sub("DELETE", "style", "delete_image_style", "DeleteImageStyle"),
    bucket_sub("PUT", "guetzli", "put_guetzli", "OpenImageGuetzli"),
    bucket_sub("GET", "guetzli", "get_guetzli", "DescribeImageGuetzli"),
    bucket_sub("DELETE", "guetzli", "delete_guetzli", "CloseImageGuetzli"),
    bucket_sub("PUT", "hotlink", "put_hotlink", "SetHotLink"),
    bucket_sub("GET", "hotlink", "get_hotlink", "DescribeHotLink"),
    bucket_sub("PUT", "origin-protect", "open_origin_protect", "OpenOriginProtect"),
    bucket_sub("GET", "origin-protect", "get_origin_protect", "DescribeOriginProtect"),
    bucket_sub("DELETE", "origin-protect", "close_origin_protect", "CloseOriginProtect"),
    bucket_sub("PUT", "image-slim", "open_image_slim", "OpenImageSlim"),
    bucket_sub("GET", "image-slim", "get_image_slim", "DescribeImageSlim"),
    bucket_sub("DELETE", "image-slim", "close_image_slim", "CloseImageSlim"),
    bucket_sub("PUT", "hdr-image-processing", "put_hdr_processing", "PutHDRImageProcessing"),
    bucket_sub("GET", "hdr-image-processing", "get_hdr_processing", "GetHDRImageProcessing"),
    bucket_sub("DELETE", "hdr-image-processing", "delete_hdr_processing", "DeleteHDRImageProcessing"),
    bucket_sub("PUT", "unbind", "close_ci_service", "CloseCIService"),
)

#: ``?ci-process=<value>``: the values the SDKs send, then any other value.
_PROCESS = (
    ci_process("GET", "videoinfo", "get_media_info", "GetMediaInfo"),
    ci_process("GET", "snapshot", "get_snapshot", "GetSnapshot"),
    ci_process("GET", "pm3u8", "get_private_m3u8", "GetPrivateM3U8"),
    ci_process("GET", "modifym3u8token", "modify_m3u8_token", "ModifyM3U8Token"),
    ci_process("GET", "doc-preview", "doc_preview", "DocPreview"),
    ci_process("GET", "zippreview", "zip_preview", "ZipPreview"),
    ci_process("GET", "filehash", "file_hash", "GetFileHash"),
    ci_process("GET", "QRcode", "get_qrcode", "GetQRcode"),
    ci_process("GET", "qrcode-generate", "generate_qrcode", "GenerateQRcode"),
    ci_process("GET", "sensitive-content-recognition", "image_auditing", "ImageAuditing"),
    ci_process("GET", "detect-label", "detect_label", "DetectLabel"),
    ci_process("GET", "AssessQuality", "assess_quality", "AssessQuality"),
    ci_process("GET", "DetectCar", "detect_car", "DetectCar"),
    ci_process("GET", "OCR", "ocr", "OCR"),
    ci_process("GET", "ImageInspect", "image_inspect", "ImageInspect"),
    ci_process("GET", "ImageAIGCMetadata", "image_aigc_metadata", "ImageAIGCMetadata"),
    ci_process("GET", "MediaAIGCMetadata", "media_aigc_metadata", "MediaAIGCMetadata"),
    ci_process("GET", "DocAIGCMetadata", "doc_aigc_metadata", "DocAIGCMetadata"),
    ci_process("GET", "RecognizeLogo", "recognize_logo", "RecognizeLogo"),
    ci_process("GET", "AISuperResolution", "ai_super_resolution", "AISuperResolution"),
    ci_process("GET", "AIEnhanceImage", "ai_enhance_image", "AIEnhanceImage"),
    ci_process("GET", "AIImageColoring", "ai_image_coloring", "AIImageColoring"),
    ci_process("GET", "AIImageCrop", "ai_image_crop", "AIImageCrop"),
    ci_process("GET", "AILicenseRec", "ai_license_rec", "AILicenseRec"),
    ci_process("GET", "AIObjectDetect", "ai_object_detect", "AIObjectDetect"),
    ci_process("GET", "AIPicMatting", "ai_pic_matting", "AIPicMatting"),
    ci_process("GET", "AIPortraitMatting", "ai_portrait_matting", "AIPortraitMatting"),
    ci_process("GET", "AIBodyRecognition", "ai_body_recognition", "AIBodyRecognition"),
    ci_process("GET", "AIGameRec", "ai_game_rec", "AIGameRec"),
    ci_process("GET", "AIImageAnalysis", "ai_image_analysis", "AIImageAnalysis"),
    ci_process("POST", "AIImageAnalysis", "create_ai_image_analysis", "CreateAIImageAnalysis"),
    ci_process("GET", "AutoTranslationBlock", "auto_translation_block", "AutoTranslationBlock"),
    ci_process("GET", "DetectFace", "detect_face", "DetectFace"),
    ci_process("GET", "detect-pet", "detect_pet", "DetectPet"),
    ci_process("GET", "face-effect", "face_effect", "FaceEffect"),
    ci_process("GET", "GetActionSequence", "get_action_sequence", "GetActionSequence"),
    ci_process("GET", "GetLiveCode", "get_live_code", "GetLiveCode"),
    ci_process("GET", "GoodsMatting", "goods_matting", "GoodsMatting"),
    ci_process("GET", "IDCardOCR", "id_card_ocr", "IDCardOCR"),
    ci_process("PUT", "IDCardOCR", "id_card_ocr_on_upload", "IDCardOCR (on upload)"),
    ci_process("GET", "ImageRepair", "image_repair", "ImageRepair"),
    ci_process("GET", "LivenessRecognition", "liveness_recognition", "LivenessRecognition"),
    ci_process("PUT", "LivenessRecognition", "liveness_recognition_on_upload", "LivenessRecognition (on upload)"),
    ci_process("POST", "ImageSearch", "image_search_gallery", "AddImage / DeleteImage", "action"),
    ci_process("GET", "ImageSearch", "image_search", "SearchImage", "action"),
    ci_process("POST", "FaceSearch", "face_search_person", "CreatePerson / AddPersonFace / DeletePersonFace", "action"),
    ci_process("GET", "FaceSearch", "face_search", "SearchPersonFace", "action"),
    ci_process("GET", "originImage", "get_origin_image", "GetOriginImage"),
    ci_process("GET", "ai-recognition", "ai_recognition", "AIRecognition"),
    ci_process("GET", "content-analysis", "content_analysis", "ContentAnalysis"),
    ci_process("*", "*", "ci_process", "ci-process"),
)

#: First words of the query names that ask CI to process an object on the way out (a ``|`` pipeline
#: starts with one of them). Any method: none of them is an object sub-resource.
PROCESSING_VERBS = (
    "imageMogr2", "imageView2", "watermark", "imageSlim", "imageInfo", "exif", "imageAve", "imageInspect",
    "image_process", "TDCRefresh",
)  # fmt: skip
_QUERY = (
    processing("GET", ("imageInfo",), "get_image_info", "GetImageInfo"),
    processing("GET", ("exif",), "get_image_exif", "GetImageExif"),
    processing("GET", ("imageAve",), "get_image_ave", "GetImageAve"),
    processing("GET", ("imageInspect",), "image_inspect_query", "ImageInspect"),
    processing("POST", ("image_process",), "image_process", "ImageProcess"),
    processing("POST", ("TDCRefresh",), "tdc_refresh", "TDCRefresh"),
    processing("*", PROCESSING_VERBS, "image_processing", "ImageProcessing"),
)

_HEADER = (
    CiRoute(
        "pic_operations", "PicOperations (processing on upload)", Kind.HEADER, "*", "/<key>", header="Pic-Operations"
    ),
)

#: Only on a ``.ci.`` host: there ``PUT /`` and ``GET /`` are the CI service switch, not a bucket.
_CI_HOST = (
    reserved("PUT", "/", "open_ci_service", "OpenCIService", object_host=False),
    reserved("GET", "/", "get_ci_service", "GetCIService", object_host=False),
)

CI_ROUTES: tuple[CiRoute, ...] = (
    *_MEDIA, *_SERVICE, *_AUDITING, *_SPEECH, *_META_INSIGHT, *_BUCKET, *_PROCESS, *_QUERY, *_HEADER, *_CI_HOST,
)  # fmt: skip
_INDEX = RouteIndex(CI_ROUTES)


def match_ci(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    *,
    host: Host = Host.OBJECT,
) -> CiRoute | None:
    """The CI operation a request is, or None: the first row of :data:`CI_ROUTES` it matches
    (reserved paths, bucket sub-resources, ``ci-process`` values, processing queries, then the
    ``Pic-Operations`` header); see :class:`cosflow.api.ci_routes.RouteIndex`."""
    return _INDEX.match(method, path, query, headers, host)
